// Package visitortoken issues and verifies signed visitor tokens: proof,
// handed by ingest to the tracker, that a browser may read one visitor's
// invitations from the gateway. A token is
//
//	v1.<widget_id>.<visitor_id>.<expiry unix seconds>.<signature>
//
// where the signature is base64url (no padding) of HMAC-SHA256 over
// everything before it. Ids are [A-Za-z0-9_-] (SPEC §1), so "." separates
// fields unambiguously and the whole token is safe in a URL query.
package visitortoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/beckon-chat/beckon/schemas"
)

const version = "v1"

// sigLen is the length of a base64url-encoded HMAC-SHA256.
var sigLen = base64.RawURLEncoding.EncodedLen(sha256.Size)

// Issue returns a token for the visitor of the widget that expires ttl after
// now (rounded down to the second). The ids must pass schemas.ValidateID;
// the secret should be at least 32 random bytes.
func Issue(secret []byte, widget, visitor string, ttl time.Duration, now time.Time) string {
	exp := now.Add(ttl).Unix()
	b := make([]byte, 0, len(version)+len(widget)+len(visitor)+24+sigLen)
	b = append(b, version...)
	b = append(b, '.')
	b = append(b, widget...)
	b = append(b, '.')
	b = append(b, visitor...)
	b = append(b, '.')
	b = strconv.AppendInt(b, exp, 10)
	sig := sign(secret, b)
	b = append(b, '.')
	return string(base64.RawURLEncoding.AppendEncode(b, sig))
}

// Expiry is when a token issued at now with ttl expires, as Issue computes it.
func Expiry(ttl time.Duration, now time.Time) time.Time {
	return time.Unix(now.Add(ttl).Unix(), 0).UTC()
}

// Verify checks a token's signature and expiry at now and returns the
// widget and visitor it was issued for. The error is ErrMalformed,
// ErrBadSignature or ErrExpired; the signature is checked first, so an
// expired forgery is ErrBadSignature.
func Verify(secret []byte, token string, now time.Time) (widget, visitor string, err error) {
	dot := strings.LastIndexByte(token, '.')
	if dot < 0 || len(token)-dot-1 != sigLen {
		return "", "", ErrMalformed
	}
	payload := token[:dot]
	fields := strings.Split(payload, ".")
	if len(fields) != 4 || fields[0] != version {
		return "", "", ErrMalformed
	}
	widget, visitor = fields[1], fields[2]
	if schemas.ValidateID("widget_id", widget) != nil || schemas.ValidateID("visitor_id", visitor) != nil {
		return "", "", ErrMalformed
	}
	exp, perr := strconv.ParseInt(fields[3], 10, 64)
	if perr != nil || exp < 0 {
		return "", "", ErrMalformed
	}
	sig, derr := base64.RawURLEncoding.DecodeString(token[dot+1:])
	if derr != nil {
		return "", "", ErrMalformed
	}
	if !hmac.Equal(sig, sign(secret, []byte(payload))) {
		return "", "", ErrBadSignature
	}
	if now.Unix() >= exp {
		return "", "", ErrExpired
	}
	return widget, visitor, nil
}

func sign(secret, payload []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(payload)
	return m.Sum(nil)
}
