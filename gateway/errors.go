package gateway

import "errors"

// Errors that callers branch on.
var (
	// ErrInvalidConfig is a Config that New cannot run with.
	ErrInvalidConfig = errors.New("gateway: invalid config")
	// ErrClosed is a Gateway whose streams were closed by Close or by the end
	// of Run; it cannot be run again.
	ErrClosed = errors.New("gateway: closed")
)
