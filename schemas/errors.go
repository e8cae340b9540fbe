package schemas

import (
	"errors"
	"fmt"
)

// Errors that callers branch on. A decoding or validation failure is a
// *FieldError that wraps one of these, so that callers can both name the
// field to the user and test the kind with errors.Is.
var (
	// ErrMissing is a required field that is absent or empty.
	ErrMissing = errors.New("schemas: missing required field")
	// ErrInvalid is a field whose value breaks the format of SPEC §1.
	ErrInvalid = errors.New("schemas: invalid value")
	// ErrSyntax is input that is not the JSON or msgpack it claims to be.
	ErrSyntax = errors.New("schemas: malformed input")
	// ErrMalformedLine is a recording line that is not a valid event; it is
	// wrapped in a *LineError that names the file and the line.
	ErrMalformedLine = errors.New("schemas: malformed recording line")
)

// FieldError names the field that made an event or invitation invalid.
type FieldError struct {
	Field  string // JSON name of the field, "" when the error is not about one field
	Reason string // what is wrong, for people
	Err    error  // ErrMissing, ErrInvalid or ErrSyntax
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%v: %s", e.Err, e.Reason)
	}
	return fmt.Sprintf("field %q: %s", e.Field, e.Reason)
}

func (e *FieldError) Unwrap() error { return e.Err }

func missing(field string) error {
	return &FieldError{Field: field, Reason: "is required", Err: ErrMissing}
}

func invalid(field, reason string) error {
	return &FieldError{Field: field, Reason: reason, Err: ErrInvalid}
}

func syntax(field, reason string) error {
	return &FieldError{Field: field, Reason: reason, Err: ErrSyntax}
}
