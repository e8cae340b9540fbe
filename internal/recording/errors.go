package recording

import (
	"errors"
	"fmt"
)

// Errors that callers branch on, tested with errors.Is.
var (
	// ErrInvalidConfig is a RecordConfig or ReplayConfig that cannot be
	// applied, such as a negative speed or --sort with --follow.
	ErrInvalidConfig = errors.New("recording: invalid configuration")
	// ErrMalformedLine is a recording line that is not a valid event; it is
	// wrapped in a *LineError that names the file and the line.
	ErrMalformedLine = errors.New("recording: malformed line")
)

// LineError is a malformed line of a recording. It wraps both
// ErrMalformedLine and the cause (usually a *schemas.FieldError).
type LineError struct {
	File string // the recording's name
	Line int    // 1-based line number
	Err  error  // what is wrong with the line
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

// Unwrap lets errors.Is find both ErrMalformedLine and the cause.
func (e *LineError) Unwrap() []error { return []error{ErrMalformedLine, e.Err} }
