package sink

import "errors"

// Errors that callers branch on.
var (
	// ErrInvalidInvitation is an invitation that cannot be published: no
	// invitation id to de-duplicate by, or a widget or visitor id that is not
	// a safe subject token.
	ErrInvalidInvitation = errors.New("sink: invalid invitation")
	// ErrRetriesExhausted is a publish that still failed after MaxRetries
	// retries; it wraps the last error.
	ErrRetriesExhausted = errors.New("sink: retries exhausted")
	// ErrClosed is a Publish on a closed sink.
	ErrClosed = errors.New("sink: closed")
)
