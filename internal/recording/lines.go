package recording

import (
	"fmt"
	"io"
	"os"
)

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
