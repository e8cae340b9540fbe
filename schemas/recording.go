package schemas

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MaxLineBytes bounds one line of a recording.
const MaxLineBytes = 1 << 20

// ErrLineTooLong is a recording line longer than MaxLineBytes.
var ErrLineTooLong = errors.New("schemas: line longer than 1 MiB")

// LineError is a line of a recording that is not a valid event, or could
// not be read. It names the file and the line, and wraps both
// ErrMalformedLine and the cause (usually a *FieldError).
type LineError struct {
	File string // the recording's name
	Line int    // 1-based line number
	Err  error  // what is wrong with the line
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

// Unwrap lets errors.Is and errors.As find ErrMalformedLine and the cause.
func (e *LineError) Unwrap() []error { return []error{ErrMalformedLine, e.Err} }

// RecordingReader reads a recording — NDJSON events, one a line, ticks
// included (SPEC §1) — decoding and validating each line. Blank lines are
// skipped. It is what `beckon eval` and `beckon replay` read with, so both
// accept and reject exactly the same files.
type RecordingReader struct {
	r    *bufio.Reader
	name string
	line int
	raw  []byte
	full []byte
	dec  Decoder
}

// NewRecordingReader reads r; name is the recording's name in errors.
func NewRecordingReader(r io.Reader, name string) *RecordingReader {
	return &RecordingReader{r: bufio.NewReaderSize(r, 1<<20), name: name}
}

// Next decodes the next event into ev and validates it (Validate(true)). It
// returns io.EOF after the last event, and a *LineError for a line that is
// not a valid event or cannot be read.
func (rr *RecordingReader) Next(ev *Event) error { return rr.next(ev, nil) }

// NextBorrowed is Next without an allocation per string: the line is
// appended to *buf and the event's strings alias it
// (Decoder.DecodeEventBorrowed). They stay valid until the caller reuses
// *buf's bytes — when a batch of events is done with, say.
func (rr *RecordingReader) NextBorrowed(ev *Event, buf *[]byte) error { return rr.next(ev, buf) }

func (rr *RecordingReader) next(ev *Event, buf *[]byte) error {
	for {
		line, err := rr.readLine()
		if err == io.EOF {
			return io.EOF
		}
		if err != nil {
			return &LineError{File: rr.name, Line: rr.line, Err: err}
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		rr.raw = line
		if buf == nil {
			err = rr.dec.DecodeEvent(line, ev)
		} else {
			start := len(*buf)
			*buf = append(*buf, line...)
			err = rr.dec.DecodeEventBorrowed((*buf)[start:], ev)
		}
		if err != nil {
			return &LineError{File: rr.name, Line: rr.line, Err: err}
		}
		if err := ev.Validate(true); err != nil {
			return &LineError{File: rr.name, Line: rr.line, Err: err}
		}
		return nil
	}
}

// Line is the number of the line last read.
func (rr *RecordingReader) Line() int { return rr.line }

// Raw is the text of the last event's line, valid until the next call.
func (rr *RecordingReader) Raw() []byte { return rr.raw }

// readLine returns the next line without its newline, valid until the next
// call, or io.EOF after the last one.
func (rr *RecordingReader) readLine() ([]byte, error) {
	line, err := rr.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		rr.full = append(rr.full[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = rr.r.ReadSlice('\n')
			rr.full = append(rr.full, line...)
			if len(rr.full) > MaxLineBytes {
				rr.line++
				return nil, ErrLineTooLong
			}
		}
		line = rr.full
	}
	if err != nil && err != io.EOF {
		rr.line++
		return nil, err
	}
	if err == io.EOF && len(line) == 0 {
		return nil, io.EOF
	}
	rr.line++
	return bytes.TrimSuffix(line, []byte{'\n'}), nil
}
