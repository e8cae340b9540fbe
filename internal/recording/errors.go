package recording

import "errors"

// ErrInvalidConfig is a RecordConfig or ReplayConfig that cannot be
// applied, such as a negative speed or --sort with --follow. A malformed
// recording line is a *schemas.LineError (errors.Is schemas.ErrMalformedLine).
var ErrInvalidConfig = errors.New("recording: invalid configuration")
