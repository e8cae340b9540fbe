package gen

import (
	"bufio"
	"io"

	"github.com/beckon-chat/beckon/schemas"
)

// WriteNDJSON writes the traffic of cfg to w as a recording: one event per
// line, times in RFC 3339 UTC with milliseconds. It returns how many events
// it wrote.
func WriteNDJSON(w io.Writer, cfg Config) (n int, err error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	line := make([]byte, 0, 512)
	err = Generate(cfg, func(ev *schemas.Event) error {
		line = append(schemas.AppendEventJSON(line[:0], ev), '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
		n++
		return nil
	})
	if err != nil {
		return n, err
	}
	return n, bw.Flush()
}
