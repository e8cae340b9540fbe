package visitortoken_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/internal/visitortoken"
)

var (
	secret = []byte("0123456789abcdef0123456789abcdef")
	now    = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
)

func TestVerifyAcceptsIssuedToken(t *testing.T) {
	tok := visitortoken.Issue(secret, "acme", "v_1-x", time.Hour, now)
	w, v, err := visitortoken.Verify(secret, tok, now.Add(59*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, "acme", w)
	assert.Equal(t, "v_1-x", v)
}

func TestVerifyRejects(t *testing.T) {
	good := visitortoken.Issue(secret, "acme", "v1", time.Hour, now)
	other := visitortoken.Issue([]byte("another secret, just as long....."), "acme", "v1", time.Hour, now)
	sig := good[strings.LastIndexByte(good, '.'):]
	tests := []struct {
		name  string
		token string
		at    time.Time
		want  error
	}{
		{"empty", "", now, visitortoken.ErrMalformed},
		{"garbage", "not a token", now, visitortoken.ErrMalformed},
		{"expired", good, now.Add(time.Hour), visitortoken.ErrExpired},
		{"other secret", other, now, visitortoken.ErrBadSignature},
		{"visitor swapped", strings.Replace(good, ".v1.", ".v2.", 1), now, visitortoken.ErrBadSignature},
		{"expiry extended", "v1.acme.v1.99999999999" + sig, now, visitortoken.ErrBadSignature},
		{"unknown version", "v2" + good[2:], now, visitortoken.ErrMalformed},
		{"bad id", "v1.acme.v*1.1" + sig, now, visitortoken.ErrMalformed},
		{"extra field", "v1.acme.x.v1.1" + sig, now, visitortoken.ErrMalformed},
		{"truncated signature", good[:len(good)-1], now, visitortoken.ErrMalformed},
		{"signature not base64url", good[:len(good)-1] + "+", now, visitortoken.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := visitortoken.Verify(secret, tt.token, tt.at)
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

func TestExpiredForgeryIsBadSignature(t *testing.T) {
	other := visitortoken.Issue([]byte("another secret, just as long....."), "acme", "v1", time.Second, now)
	_, _, err := visitortoken.Verify(secret, other, now.Add(time.Hour))
	assert.ErrorIs(t, err, visitortoken.ErrBadSignature)
}

func FuzzVerify(f *testing.F) {
	f.Add(visitortoken.Issue(secret, "acme", "v1", time.Hour, now))
	f.Add("v1.a.b.1.")
	f.Add("")
	f.Add("v1....")
	f.Fuzz(func(t *testing.T, token string) {
		w, v, err := visitortoken.Verify(secret, token, now)
		if err != nil {
			assert.Empty(t, w)
			assert.Empty(t, v)
			return
		}
		// Only a token that Issue wrote for these ids verifies.
		assert.True(t, strings.HasPrefix(token, "v1."+w+"."+v+"."))
		assert.Equal(t, visitortoken.Issue(secret, w, v, time.Hour, now), token)
	})
}
