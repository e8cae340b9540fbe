package visitortoken_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/internal/visitortoken"
)

func newHandler(t *testing.T, origins ...string) *visitortoken.Handler {
	t.Helper()
	h, err := visitortoken.NewHandler(visitortoken.Config{
		Secret: secret, TTL: time.Hour, AllowedOrigins: origins,
		Now: func() time.Time { return now },
	})
	require.NoError(t, err)
	return h
}

func TestHandlerIssuesVerifiableToken(t *testing.T) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/v1/token?widget_id=acme&visitor_id=v1", nil)
	req.Header.Set("Origin", "https://shop.example")
	newHandler(t).ServeHTTP(rec, req)

	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "https://shop.example", rec.Header().Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "true", rec.Header().Get("Access-Control-Allow-Credentials"))
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	var body struct {
		Token     string `json:"token"`
		ExpiresAt string `json:"expires_at"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.Equal(t, "2026-11-23T11:00:00.000Z", body.ExpiresAt)
	w, v, err := visitortoken.Verify(secret, body.Token, now)
	require.NoError(t, err)
	assert.Equal(t, [2]string{"acme", "v1"}, [2]string{w, v})
}

func TestHandlerRejects(t *testing.T) {
	tests := []struct {
		name, method, query, origin string
		want                        int
	}{
		{"missing visitor", "GET", "widget_id=acme", "", http.StatusBadRequest},
		{"bad widget", "GET", "widget_id=a.b&visitor_id=v1", "", http.StatusBadRequest},
		{"too long visitor", "GET", "widget_id=a&visitor_id=" + longID, "", http.StatusBadRequest},
		{"post", "POST", "widget_id=a&visitor_id=v", "", http.StatusMethodNotAllowed},
		{"origin not allowed", "GET", "widget_id=a&visitor_id=v", "https://evil.example", http.StatusForbidden},
		{"preflight", "OPTIONS", "", "https://shop.example", http.StatusNoContent},
	}
	h := newHandler(t, "https://shop.example")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(tt.method, "/v1/token?"+tt.query, nil)
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			h.ServeHTTP(rec, req)
			assert.Equal(t, tt.want, rec.Code)
		})
	}
}

var longID = func() string {
	b := make([]byte, 129)
	for i := range b {
		b[i] = 'a'
	}
	return string(b)
}()

func TestNewHandlerNeedsLongSecret(t *testing.T) {
	_, err := visitortoken.NewHandler(visitortoken.Config{Secret: []byte("short")})
	assert.ErrorIs(t, err, visitortoken.ErrShortSecret)
}
