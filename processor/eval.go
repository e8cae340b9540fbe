package processor

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/beckon-chat/beckon/rules"
	"github.com/beckon-chat/beckon/schemas"
)

// maxLine bounds one line of a recording.
const maxLine = 1 << 20

// LineError is a malformed line of a recording.
type LineError struct {
	File string
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// EvalStats summarises an evaluation.
type EvalStats struct {
	Lines       int
	Events      int
	Invitations int
}

// Eval runs the engine over a recording — NDJSON events, ticks included —
// and writes the invitations as NDJSON, as `beckon eval` does (SPEC §7). Timers
// due after the last event fire at the end of the input. name is the
// recording's name in errors.
func Eval(set *rules.Set, r io.Reader, name string, w io.Writer) (EvalStats, error) {
	var st EvalStats
	in := bufio.NewReaderSize(r, 1<<20)
	out := bufio.NewWriterSize(w, 1<<16)
	eng := New(set)
	var dec schemas.Decoder
	var ev schemas.Event
	invs := make([]schemas.Invitation, 0, 16)
	var buf []byte
	flush := func() error {
		for i := range invs {
			buf = schemas.AppendInvitationJSON(buf[:0], &invs[i])
			buf = append(buf, '\n')
			if _, err := out.Write(buf); err != nil {
				return fmt.Errorf("eval: writing invitations: %w", err)
			}
		}
		st.Invitations += len(invs)
		invs = invs[:0]
		return nil
	}
	for {
		line, err := readLine(in)
		if len(line) > 0 || err == nil {
			st.Lines++
		}
		if len(bytes.TrimSpace(line)) > 0 {
			if derr := dec.DecodeEvent(line, &ev); derr != nil {
				return st, &LineError{File: name, Line: st.Lines, Err: derr}
			}
			if verr := ev.Validate(true); verr != nil {
				return st, &LineError{File: name, Line: st.Lines, Err: verr}
			}
			st.Events++
			invs = eng.Apply(&ev, invs)
			if ferr := flush(); ferr != nil {
				return st, ferr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return st, &LineError{File: name, Line: st.Lines + 1, Err: err}
		}
	}
	invs = eng.Drain(invs)
	if err := flush(); err != nil {
		return st, err
	}
	if err := out.Flush(); err != nil {
		return st, fmt.Errorf("eval: writing invitations: %w", err)
	}
	return st, nil
}

var errLineTooLong = errors.New("line longer than 1 MiB")

// readLine returns the next line without its newline; the slice is valid
// until the next call.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		full := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			line, err = r.ReadSlice('\n')
			full = append(full, line...)
			if len(full) > maxLine {
				return nil, errLineTooLong
			}
		}
		line = full
	}
	return bytes.TrimSuffix(line, []byte{'\n'}), err
}
