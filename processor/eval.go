package processor

import (
	"bufio"
	"fmt"
	"io"

	"github.com/beckon-chat/beckon/rules"
	"github.com/beckon-chat/beckon/schemas"
)

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
//
// Reading and decoding run in a goroutine of their own, a chunk of lines
// ahead of the engine, so that the two halves of the work overlap on two
// cores; the engine still sees every event in order, so the output is that
// of one goroutine doing both.
func Eval(set *rules.Set, r io.Reader, name string, w io.Writer) (EvalStats, error) {
	var st EvalStats
	out := bufio.NewWriterSize(w, 1<<16)
	eng := New(set)
	eng.CopyEventStrings() // the events borrow their chunk's lines
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
	done := make(chan struct{})
	defer close(done)
	full, free := make(chan *evalChunk, evalChunks), make(chan *evalChunk, evalChunks)
	for range evalChunks {
		free <- &evalChunk{events: make([]schemas.Event, 0, evalChunkEvents)}
	}
	go readEvents(r, name, full, free, done)
	for c := range full {
		for i := range c.events {
			st.Events++
			invs = eng.Apply(&c.events[i], invs)
			if err := flush(); err != nil {
				return st, err
			}
		}
		st.Lines = c.lines
		if c.err != nil {
			return st, c.err
		}
		free <- c
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

// evalChunk is a run of decoded, valid events; err, when set, is the
// recording's error on the line after them, and ends it.
type evalChunk struct {
	events []schemas.Event
	text   []byte // the events' lines: their strings point into it
	lines  int    // lines read, up to the end of this chunk or the bad line
	err    error
}

const (
	evalChunks      = 4
	evalChunkEvents = 512
)

// readEvents reads, decodes and validates the recording into chunks, until
// the end of the input or its first error, and then closes full.
func readEvents(r io.Reader, name string, full chan<- *evalChunk, free <-chan *evalChunk, done <-chan struct{}) {
	defer close(full)
	rr := schemas.NewRecordingReader(r, name)
	var c *evalChunk
	send := func() bool {
		c.lines = rr.Line()
		select {
		case full <- c:
			c = nil
			return true
		case <-done:
			return false
		}
	}
	for {
		if c == nil {
			select {
			case c = <-free:
				// The engine copied what it keeps of the chunk's events
				// (CopyEventStrings), so the bytes they borrowed are free.
				c.events, c.text, c.err = c.events[:0], c.text[:0], nil
			case <-done:
				return
			}
		}
		c.events = append(c.events, schemas.Event{})
		if err := rr.NextBorrowed(&c.events[len(c.events)-1], &c.text); err != nil {
			c.events = c.events[:len(c.events)-1]
			if err != io.EOF {
				c.err = err
			}
			send()
			return
		}
		if len(c.events) == evalChunkEvents && !send() {
			return
		}
	}
}
