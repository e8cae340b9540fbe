package visitortoken

import "errors"

// Errors of Verify, which callers branch on (the gateway answers 401 to all
// of them, and logs which).
var (
	// ErrMalformed is a token that is not of the form Issue writes.
	ErrMalformed = errors.New("visitortoken: malformed token")
	// ErrBadSignature is a token whose signature does not match: forged,
	// altered, or signed with another secret.
	ErrBadSignature = errors.New("visitortoken: bad signature")
	// ErrExpired is a genuine token past its expiry.
	ErrExpired = errors.New("visitortoken: token expired")
	// ErrShortSecret is a Config whose Secret is shorter than MinSecretLen.
	ErrShortSecret = errors.New("visitortoken: secret shorter than 32 bytes")
)
