package streams

import "errors"

// Errors that callers branch on, tested with errors.Is.
var (
	// ErrConfigConflict is an existing stream or consumer whose settings
	// differ from what this version of Beckon (or its flags) wants. The
	// error that wraps it names the setting and both values; nothing is
	// changed, because changing these in place loses or reorders data.
	ErrConfigConflict = errors.New("streams: existing configuration conflicts")
	// ErrStreamMissing is a stream that does not exist yet (see Check).
	ErrStreamMissing = errors.New("streams: stream missing")
	// ErrInvalidConfig is a configuration that cannot be applied, such as a
	// negative partition count.
	ErrInvalidConfig = errors.New("streams: invalid configuration")
)
