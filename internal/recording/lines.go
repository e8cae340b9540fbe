package recording

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// maxLine bounds one line of a recording, as `beckon eval` does.
const maxLine = 1 << 20

var errLineTooLong = errors.New("line longer than 1 MiB")

// lineReader reads a recording line by line, counting lines from 1.
type lineReader struct {
	r    *bufio.Reader
	line int
	full []byte
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 1<<20)}
}

// next returns the next line without its newline, valid until the next
// call, or io.EOF after the last one.
func (lr *lineReader) next() ([]byte, error) {
	line, err := lr.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		lr.full = append(lr.full[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = lr.r.ReadSlice('\n')
			lr.full = append(lr.full, line...)
			if len(lr.full) > maxLine {
				lr.line++
				return nil, errLineTooLong
			}
		}
		line = lr.full
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	if err == io.EOF && len(line) == 0 {
		return nil, io.EOF
	}
	lr.line++
	return bytes.TrimSuffix(line, []byte{'\n'}), nil
}

// rewindable returns a reader that yields r's content from its current
// position and a rewind function that goes back there, for the two passes
// of Replay: r itself when it can seek, or else a temporary file that r is
// copied to (a recording piped on stdin). cleanup removes that file.
func rewindable(r io.Reader) (rs io.Reader, rewind func() error, cleanup func(), err error) {
	if s, ok := r.(io.ReadSeeker); ok {
		if pos, err := s.Seek(0, io.SeekCurrent); err == nil {
			return s, func() error { _, err := s.Seek(pos, io.SeekStart); return err }, func() {}, nil
		}
	}
	f, err := os.CreateTemp("", "beckon-replay-*.ndjson")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("recording: spooling the recording: %w", err)
	}
	cleanup = func() {
		f.Close()
		os.Remove(f.Name())
	}
	if _, err := io.Copy(f, r); err != nil {
		cleanup()
		return nil, nil, nil, fmt.Errorf("recording: spooling the recording: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		cleanup()
		return nil, nil, nil, fmt.Errorf("recording: spooling the recording: %w", err)
	}
	return f, func() error { _, err := f.Seek(0, io.SeekStart); return err }, cleanup, nil
}
