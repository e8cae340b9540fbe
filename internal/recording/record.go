package recording

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/schemas"
)

// Source is the stream that Record reads.
type Source string

// The streams Record reads.
const (
	Events      Source = "events"      // BECKON_EVENTS: events and ticks
	Invitations Source = "invitations" // BECKON_INVITATIONS: invitation commands
)

// Position is a place in a stream: a stream sequence number or a time.
// The zero Position is unbounded.
type Position struct {
	Seq  uint64    // a stream sequence, inclusive; 0 when Time is used
	Time time.Time // a message time (ts or at), inclusive, to the millisecond
}

// IsZero reports whether p is unbounded.
func (p Position) IsZero() bool { return p.Seq == 0 && p.Time.IsZero() }

func (p Position) String() string {
	switch {
	case p.Seq > 0:
		return strconv.FormatUint(p.Seq, 10)
	case !p.Time.IsZero():
		return schemas.FormatTime(p.Time.UnixMilli())
	}
	return ""
}

// ParsePosition reads a stream sequence number ("1042") or an RFC 3339
// time ("2026-11-23T10:00:00Z"); "" is the zero Position.
func ParsePosition(s string) (Position, error) {
	if s == "" {
		return Position{}, nil
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		if n == 0 {
			return Position{}, fmt.Errorf("%w: stream sequences start at 1", ErrInvalidConfig)
		}
		return Position{Seq: n}, nil
	}
	ms, ok := schemas.ParseTime([]byte(s))
	if !ok {
		return Position{}, fmt.Errorf("%w: %q is neither a stream sequence nor an RFC 3339 time such as 2026-11-23T10:00:00Z", ErrInvalidConfig, s)
	}
	return Position{Time: time.UnixMilli(ms).UTC()}, nil
}

// RecordConfig says what Record writes. The zero value records the whole
// events stream as it is now.
type RecordConfig struct {
	// Source is the stream to read (default Events).
	Source Source
	// Since is the first position written (default: the stream's start).
	Since Position
	// Until is the last position written (default: the stream's end at
	// start, or no end with Follow).
	Until Position
	// Widget keeps only that widget's events or invitations; ticks, which
	// belong to no widget, are kept.
	Widget string
	// Follow keeps writing new messages until ctx ends (or a time Until
	// passes); without it Record stops at the stream's last message at start.
	Follow bool
	// Sort writes invitations by (at, widget, visitor, rule, id) instead of
	// stream order. Invitations only; not with Follow.
	Sort bool
	// Logger receives operational messages (default slog.Default()).
	Logger *slog.Logger
}

// followGrace is how long past a time Until a following Record waits for
// messages that were in flight.
const followGrace = time.Second

func (c RecordConfig) withDefaults() (RecordConfig, error) {
	if c.Source == "" {
		c.Source = Events
	}
	if c.Source != Events && c.Source != Invitations {
		return c, fmt.Errorf("%w: source %q, want events or invitations", ErrInvalidConfig, c.Source)
	}
	if c.Widget != "" {
		if err := schemas.ValidateID("widget", c.Widget); err != nil {
			return c, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	}
	if c.Sort && c.Source != Invitations {
		return c, fmt.Errorf("%w: sort applies to invitations only; events are written in stream order", ErrInvalidConfig)
	}
	if c.Sort && c.Follow {
		return c, fmt.Errorf("%w: sort needs the whole recording and cannot follow", ErrInvalidConfig)
	}
	if c.Since.Seq > 0 && c.Until.Seq > 0 && c.Since.Seq > c.Until.Seq ||
		!c.Since.Time.IsZero() && !c.Until.Time.IsZero() && c.Since.Time.After(c.Until.Time) {
		return c, fmt.Errorf("%w: since %s is after until %s", ErrInvalidConfig, c.Since, c.Until)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// RecordStats says what Record read and wrote.
type RecordStats struct {
	Messages    int    // messages read from the stream
	Events      int    // event lines written
	Ticks       int    // tick lines written (one per instant)
	Invitations int    // invitation lines written
	LastSeq     uint64 // stream sequence of the last message read
}

// Lines is the number of lines written.
func (s RecordStats) Lines() int { return s.Events + s.Ticks + s.Invitations }

// Record writes a stream as NDJSON to w: events (ticks included) with
// schemas.AppendEventJSON, or invitations with schemas.AppendInvitationJSON,
// one per line. When ctx ends while following, Record returns what it wrote
// and no error: that is how a follow ends.
func Record(ctx context.Context, js jetstream.JetStream, cfg RecordConfig, w io.Writer) (RecordStats, error) {
	var st RecordStats
	cfg, err := cfg.withDefaults()
	if err != nil {
		return st, err
	}
	name := streams.EventsStream
	var filters []string
	if cfg.Source == Invitations {
		name = streams.InvitationsStream
		if cfg.Widget != "" {
			filters = []string{streams.InvitationsPrefix + "." + cfg.Widget + ".*"}
		}
	} else if cfg.Widget != "" {
		filters = []string{
			streams.EventsPrefix + ".*." + cfg.Widget + ".*",
			streams.EventsPrefix + ".*.tick",
		}
	}
	s, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return st, fmt.Errorf("recording: %w: %s", streams.ErrStreamMissing, name)
	}
	if err != nil {
		return st, fmt.Errorf("recording: stream %s: %w", name, err)
	}

	// The last sequence to read: the stream's end now, unless following.
	var end uint64
	if !cfg.Follow {
		end = s.CachedInfo().State.LastSeq
		if end == 0 || cfg.Since.Seq > end {
			return st, nil
		}
	}
	if cfg.Until.Seq > 0 && (end == 0 || cfg.Until.Seq < end) {
		end = cfg.Until.Seq
	}
	if cfg.Follow && !cfg.Until.Time.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, cfg.Until.Time.Add(followGrace))
		defer cancel()
	}

	occ := jetstream.OrderedConsumerConfig{FilterSubjects: filters, DeliverPolicy: jetstream.DeliverAllPolicy}
	if cfg.Since.Seq > 0 {
		occ.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		occ.OptStartSeq = cfg.Since.Seq
	}
	cons, err := js.OrderedConsumer(ctx, name, occ)
	if err != nil {
		return st, fmt.Errorf("recording: consumer on %s: %w", name, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return st, fmt.Errorf("recording: reading %s: %w", name, err)
	}
	defer it.Stop()
	if !cfg.Follow {
		// Nothing matches at all: no message would ever tell us we are done.
		info, err := cons.Info(ctx)
		if err != nil {
			return st, fmt.Errorf("recording: consumer on %s: %w", name, err)
		}
		if info.NumPending == 0 && info.Delivered.Consumer == 0 {
			return st, nil
		}
	}

	rw := recordWriter{cfg: cfg, out: bufio.NewWriterSize(w, 1<<16), st: &st, lastTick: never}
	rw.since, rw.until = never, forever
	if !cfg.Since.Time.IsZero() {
		rw.since = cfg.Since.Time.UnixMilli()
	}
	if !cfg.Until.Time.IsZero() {
		rw.until = cfg.Until.Time.UnixMilli()
	}
	for {
		m, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			if ctx.Err() != nil && cfg.Follow {
				break
			}
			if ctx.Err() != nil {
				return st, ctx.Err()
			}
			return st, fmt.Errorf("recording: reading %s: %w", name, err)
		}
		md, err := m.Metadata()
		if err != nil {
			return st, fmt.Errorf("recording: reading %s: %w", name, err)
		}
		seq := md.Sequence.Stream
		if end > 0 && seq > end {
			break
		}
		st.Messages++
		st.LastSeq = seq
		if err := rw.write(m.Subject(), m.Data(), seq); err != nil {
			return st, err
		}
		if end > 0 && seq >= end || !cfg.Follow && md.NumPending == 0 {
			break
		}
		if cfg.Follow && md.NumPending == 0 {
			if err := rw.out.Flush(); err != nil {
				return st, fmt.Errorf("recording: writing: %w", err)
			}
		}
	}
	if err := rw.finish(); err != nil {
		return st, err
	}
	cfg.Logger.Debug("recorded", "stream", name, "messages", st.Messages, "lines", st.Lines(), "last_seq", st.LastSeq)
	return st, nil
}

const (
	never   = int64(-1 << 63)
	forever = int64(1<<63 - 1)
)

// recordWriter decodes messages and writes the lines that pass the filters.
type recordWriter struct {
	cfg          RecordConfig
	out          *bufio.Writer
	st           *RecordStats
	since, until int64 // ms, inclusive
	lastTick     int64
	ev           schemas.Event
	inv          schemas.Invitation
	sorted       []schemas.Invitation
	buf          []byte
}

func (rw *recordWriter) write(subject string, data []byte, seq uint64) error {
	if rw.cfg.Source == Invitations {
		if err := schemas.UnmarshalInvitation(data, &rw.inv); err != nil {
			return fmt.Errorf("recording: message %d on %s: %w", seq, subject, err)
		}
		if rw.inv.At < rw.since || rw.inv.At > rw.until {
			return nil
		}
		if rw.cfg.Sort {
			rw.sorted = append(rw.sorted, rw.inv)
			return nil
		}
		rw.buf = schemas.AppendInvitationJSON(rw.buf[:0], &rw.inv)
		rw.st.Invitations++
		return rw.line()
	}
	if err := schemas.UnmarshalEvent(data, &rw.ev); err != nil {
		return fmt.Errorf("recording: message %d on %s: %w", seq, subject, err)
	}
	if rw.ev.TS < rw.since || rw.ev.TS > rw.until {
		return nil
	}
	if rw.ev.Type == schemas.Tick {
		// Each instant is ticked to every partition; one line stands for all.
		if rw.ev.TS <= rw.lastTick {
			return nil
		}
		rw.lastTick = rw.ev.TS
		rw.st.Ticks++
	} else {
		rw.st.Events++
	}
	rw.buf = schemas.AppendEventJSON(rw.buf[:0], &rw.ev)
	return rw.line()
}

func (rw *recordWriter) line() error {
	rw.buf = append(rw.buf, '\n')
	if _, err := rw.out.Write(rw.buf); err != nil {
		return fmt.Errorf("recording: writing: %w", err)
	}
	return nil
}

func (rw *recordWriter) finish() error {
	if rw.cfg.Sort {
		slices.SortFunc(rw.sorted, CompareInvitations)
		for i := range rw.sorted {
			rw.buf = schemas.AppendInvitationJSON(rw.buf[:0], &rw.sorted[i])
			rw.st.Invitations++
			if err := rw.line(); err != nil {
				return err
			}
		}
	}
	if err := rw.out.Flush(); err != nil {
		return fmt.Errorf("recording: writing: %w", err)
	}
	return nil
}

// CompareInvitations is the order of `record invitations --sort`, for
// diffing: by instant, then who, then rule; the id breaks the remaining
// ties (once_per_page rules).
func CompareInvitations(a, b schemas.Invitation) int {
	return cmp.Or(
		cmp.Compare(a.At, b.At),
		cmp.Compare(a.WidgetID, b.WidgetID),
		cmp.Compare(a.VisitorID, b.VisitorID),
		cmp.Compare(a.RuleID, b.RuleID),
		cmp.Compare(a.InvitationID, b.InvitationID),
	)
}
