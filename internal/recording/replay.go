package recording

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/rules"
	"github.com/beckon-chat/beckon/schemas"
)

// Defaults of ReplayConfig.
const (
	// MaxSpeed replays as fast as JetStream stores: no pacing.
	MaxSpeed = math.MaxFloat64
	// DefaultTail is how far past the last event the final tick goes when
	// no rules say better: the longest presence timeout a widget may have
	// without rules, its default session timeout.
	DefaultTail = 30 * time.Minute
	// DefaultTickEvery is the wall time between generated ticks, as ingest
	// ticks (ingest.DefaultTickInterval).
	DefaultTickEvery = 250 * time.Millisecond
	// DefaultMaxInFlight bounds the publishes awaiting JetStream's ack.
	DefaultMaxInFlight = 4096
	// progressEvery is how many events pass between Progress calls.
	progressEvery = 1024
)

// ReplayConfig says how Replay publishes a recording. The zero value
// replays in real time with the recording's own times.
type ReplayConfig struct {
	// Name is the recording's name in errors (default "recording").
	Name string
	// Speed is the pace relative to the recording's times: 1 (the default)
	// is real time, 10 ten times faster, MaxSpeed no pacing at all.
	Speed float64
	// RebaseNow shifts every time of the recording so that its first line
	// is the moment publishing starts.
	RebaseNow bool
	// RebaseTo, when not zero, shifts every time so that the first line is
	// at RebaseTo. Not with RebaseNow.
	RebaseTo time.Time
	// Tail is how far past the last event the final tick goes, so that every
	// pending timer fires (default DefaultTail; see TailFor). Negative: no
	// final tick, for a replay alongside live ingest, whose ticks go on.
	Tail time.Duration
	// TickInterval is the stream time between generated ticks, for a
	// recording that has no tick lines (default DefaultTickEvery × Speed,
	// and none at MaxSpeed). Negative: none. Recordings with ticks get
	// theirs only.
	TickInterval time.Duration
	// MaxInFlight bounds the publishes awaiting JetStream's ack (default
	// DefaultMaxInFlight).
	MaxInFlight int
	// Progress, when set, is called with the events published so far and
	// the recording's total, every 1024 events and at the end.
	Progress func(done, total int)
	// Logger receives operational messages (default slog.Default()).
	Logger *slog.Logger
}

func (c ReplayConfig) withDefaults() (ReplayConfig, error) {
	if c.Name == "" {
		c.Name = "recording"
	}
	if math.IsNaN(c.Speed) || c.Speed < 0 {
		return c, fmt.Errorf("%w: speed %v, want a positive factor or max", ErrInvalidConfig, c.Speed)
	}
	if c.Speed == 0 {
		c.Speed = 1
	}
	if math.IsInf(c.Speed, 1) {
		c.Speed = MaxSpeed
	}
	if c.RebaseNow && !c.RebaseTo.IsZero() {
		return c, fmt.Errorf("%w: rebase to now or to a time, not both", ErrInvalidConfig)
	}
	if c.Tail == 0 {
		c.Tail = DefaultTail
	}
	if c.TickInterval == 0 {
		c.TickInterval = -1
		if c.Speed < MaxSpeed {
			c.TickInterval = max(time.Millisecond, time.Duration(float64(DefaultTickEvery)*c.Speed)).Truncate(time.Millisecond)
		}
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// TailFor is the tail that makes every timer of set fire: its longest
// presence timeout and a millisecond, since a visitor's timer instants come
// only while it is present (SPEC §4).
func TailFor(set *rules.Set) time.Duration {
	var longest int64
	for _, w := range set.Widgets() {
		longest = max(longest, w.PresenceTimeout)
	}
	return time.Duration(longest+1) * time.Millisecond
}

// ReplayStats says what Replay published.
type ReplayStats struct {
	Lines      int           // lines read, blank ones included
	Events     int           // events published
	Duplicates int           // events the stream already held (same id within its duplicate window)
	Ticks      int           // tick instants published, each to every partition
	Messages   int           // messages published: events, and ticks times partitions
	Partitions int           // the events stream's partition count
	First      int64         // time of the first line as published, unix ms
	Last       int64         // time of the last line or tick as published, unix ms
	Elapsed    time.Duration // from the first publish to the last ack
}

// EventsPerSecond is the replay's throughput.
func (s ReplayStats) EventsPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Events) / s.Elapsed.Seconds()
}

// Replay publishes a recording (NDJSON events, ticks included) into the
// events stream, creating the stream if there is none. It validates the
// whole recording before it publishes anything: a malformed line is a
// *schemas.LineError and nothing is published. When ctx ends Replay stops, waits
// briefly for the acks in flight, and returns what it published with
// ctx.Err(); running it again stores nothing twice within the stream's
// duplicate window.
func Replay(ctx context.Context, js jetstream.JetStream, cfg ReplayConfig, r io.Reader) (ReplayStats, error) {
	var st ReplayStats
	cfg, err := cfg.withDefaults()
	if err != nil {
		return st, err
	}
	in, rewind, cleanup, err := rewindable(r)
	if err != nil {
		return st, err
	}
	defer cleanup()
	sc, err := scanRecording(in, cfg.Name)
	if err != nil {
		return st, err
	}
	if err := rewind(); err != nil {
		return st, fmt.Errorf("recording: rewinding %s: %w", cfg.Name, err)
	}
	n, err := streams.EnsureEvents(ctx, js, streams.EventsConfig{})
	if err != nil {
		return st, err
	}
	st.Partitions = n
	// A JetStream context of our own, so that the in-flight bound and the
	// ack timeout are the replay's, whatever the caller's context says.
	pjs, err := jetstream.New(js.Conn(),
		jetstream.WithPublishAsyncMaxPending(cfg.MaxInFlight+1),
		jetstream.WithPublishAsyncTimeout(30*time.Second))
	if err != nil {
		return st, fmt.Errorf("recording: %w", err)
	}
	rp := &replayer{
		cfg: cfg, sc: sc, st: &st, n: n,
		pub: publisher{js: pjs, window: cfg.MaxInFlight},
		rr:  schemas.NewRecordingReader(in, cfg.Name),
	}
	err = rp.run(ctx)
	if err != nil {
		// Count what the server has stored, not what was sent.
		wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = rp.pub.drain(wctx, &st)
		cancel()
		if !rp.start.IsZero() {
			st.Elapsed = time.Since(rp.start)
		}
		return st, err
	}
	cfg.Logger.Debug("replayed", "file", cfg.Name, "events", st.Events, "duplicates", st.Duplicates,
		"ticks", st.Ticks, "elapsed", st.Elapsed, "events_per_s", st.EventsPerSecond())
	return st, nil
}

// scanned is what the validating pass learns about a recording.
type scanned struct {
	events    int
	ticks     int   // tick lines
	first     int64 // time of the first line
	lastEvent int64 // time of the last event, never when none
}

// scanRecording decodes and validates every line: the cheap pass that
// keeps a malformed recording from publishing half of itself.
func scanRecording(r io.Reader, name string) (scanned, error) {
	sc := scanned{first: never, lastEvent: never}
	rr := schemas.NewRecordingReader(r, name)
	var ev schemas.Event
	for {
		err := rr.Next(&ev)
		if err == io.EOF {
			return sc, nil
		}
		if err != nil {
			return sc, err
		}
		if sc.first == never {
			sc.first = ev.TS
		}
		if ev.Type == schemas.Tick {
			sc.ticks++
		} else {
			sc.events++
			sc.lastEvent = max(sc.lastEvent, ev.TS)
		}
	}
}

// replayer is one run of Replay's publishing pass.
type replayer struct {
	cfg      ReplayConfig
	sc       scanned
	st       *ReplayStats
	n        int // partitions
	pub      publisher
	rr       *schemas.RecordingReader
	offset   int64 // rebase, ms
	start    time.Time
	t0       int64 // stream time at start
	timer    *time.Timer
	lastTick int64
}

func (rp *replayer) run(ctx context.Context) error {
	st := rp.st
	if rp.sc.first == never {
		return nil // an empty recording
	}
	rp.start = time.Now()
	switch {
	case rp.cfg.RebaseNow:
		rp.offset = rp.start.UnixMilli() - rp.sc.first
	case !rp.cfg.RebaseTo.IsZero():
		rp.offset = rp.cfg.RebaseTo.UnixMilli() - rp.sc.first
	}
	rp.t0 = rp.sc.first + rp.offset
	rp.lastTick = never
	st.First = rp.t0
	generate := rp.sc.ticks == 0 && rp.cfg.TickInterval > 0
	step := rp.cfg.TickInterval.Milliseconds()
	nextTick := rp.t0 + step

	var ev schemas.Event
	for {
		err := rp.rr.Next(&ev)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err // the file changed since it was validated
		}
		st.Lines = rp.rr.Line()
		rp.shift(&ev)
		for generate && nextTick < ev.TS {
			if err := rp.tick(ctx, nextTick); err != nil {
				return err
			}
			nextTick += step
		}
		if err := rp.pace(ctx, ev.TS); err != nil {
			return err
		}
		if ev.Type == schemas.Tick {
			if err := rp.tick(ctx, ev.TS); err != nil {
				return err
			}
			continue
		}
		if ev.ID == "" {
			ev.ID = lineID(rp.rr.Line(), rp.offset, rp.rr.Raw())
		}
		if err := rp.event(ctx, &ev); err != nil {
			return err
		}
	}
	if rp.sc.lastEvent != never && rp.cfg.Tail > 0 {
		final := rp.sc.lastEvent + rp.offset + rp.cfg.Tail.Milliseconds()
		for generate && nextTick < final {
			if err := rp.tick(ctx, nextTick); err != nil {
				return err
			}
			nextTick += step
		}
		if final > rp.lastTick {
			if err := rp.tick(ctx, final); err != nil {
				return err
			}
		}
	}
	if err := rp.pub.drain(ctx, st); err != nil {
		return err
	}
	st.Elapsed = time.Since(rp.start)
	rp.progress()
	return nil
}

func (rp *replayer) shift(ev *schemas.Event) {
	if rp.offset == 0 {
		return
	}
	ev.TS += rp.offset
	if ev.ClientTS != 0 {
		ev.ClientTS += rp.offset
	}
	if ev.SentTS != 0 {
		ev.SentTS += rp.offset
	}
}

// pace waits until stream time t is due at the replay's speed.
func (rp *replayer) pace(ctx context.Context, t int64) error {
	if rp.cfg.Speed >= MaxSpeed {
		return nil
	}
	due := rp.start.Add(time.Duration(float64(t-rp.t0) * float64(time.Millisecond) / rp.cfg.Speed))
	d := time.Until(due)
	if d < time.Millisecond { // behind or close enough: catch up
		return ctx.Err()
	}
	if rp.timer == nil {
		rp.timer = time.NewTimer(d)
	} else {
		rp.timer.Reset(d)
	}
	select {
	case <-rp.timer.C:
		return nil
	case <-ctx.Done():
		rp.timer.Stop()
		return ctx.Err()
	}
}

func (rp *replayer) event(ctx context.Context, ev *schemas.Event) error {
	body, err := msgpack.Marshal(ev)
	if err != nil {
		return fmt.Errorf("recording: %s:%d: encoding: %w", rp.cfg.Name, rp.rr.Line(), err)
	}
	p := streams.Partition(ev.WidgetID, ev.VisitorID, rp.n)
	msg := &nats.Msg{
		Subject: streams.EventSubject(p, ev.WidgetID, ev.VisitorID),
		Data:    body,
		Header:  nats.Header{jetstream.MsgIDHeader: []string{ev.ID}},
	}
	if err := rp.pub.publish(ctx, msg, rp.rr.Line(), true, rp.st); err != nil {
		return err
	}
	rp.st.Events++
	rp.st.Messages++
	rp.st.Last = max(rp.st.Last, ev.TS)
	if rp.st.Events%progressEvery == 0 {
		rp.progress()
	}
	return nil
}

// tick publishes a tick at t to every partition, paced.
func (rp *replayer) tick(ctx context.Context, t int64) error {
	if err := rp.pace(ctx, t); err != nil {
		return err
	}
	body, err := msgpack.Marshal(&schemas.Event{Type: schemas.Tick, TS: t})
	if err != nil {
		return fmt.Errorf("recording: encoding a tick: %w", err)
	}
	for p := range rp.n {
		// A tick's id is its partition and instant, so that a rerun does
		// not store the same ticks again either.
		msg := &nats.Msg{
			Subject: streams.TickSubject(p),
			Data:    body,
			Header:  nats.Header{jetstream.MsgIDHeader: []string{fmt.Sprintf("rt%d-%d", p, t)}},
		}
		if err := rp.pub.publish(ctx, msg, rp.rr.Line(), false, rp.st); err != nil {
			return err
		}
		rp.st.Messages++
	}
	rp.st.Ticks++
	rp.lastTick = max(rp.lastTick, t)
	rp.st.Last = max(rp.st.Last, t)
	return nil
}

func (rp *replayer) progress() {
	if rp.cfg.Progress != nil {
		rp.cfg.Progress(rp.st.Events, rp.sc.events)
	}
}

// lineID is the de-duplication id of a line without one: the same line of
// the same file, shifted by the same offset, gets the same id on every run.
// The line number keeps two identical lines (the same beacon twice in one
// millisecond) apart; the offset makes a replay rebased to another time new
// traffic, as its times are.
func lineID(line int, offset int64, raw []byte) string {
	h := sha256.New()
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(line))
	binary.BigEndian.PutUint64(b[8:], uint64(offset))
	h.Write(b[:])
	h.Write(bytes.TrimSpace(raw))
	var sum [sha256.Size]byte
	return "r" + hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// publisher publishes asynchronously with at most window acks in flight,
// waiting for the oldest when the window is full, so that a failed publish
// is reported with its line.
type publisher struct {
	js      jetstream.JetStream
	window  int
	pending []inFlight
	head    int
}

type inFlight struct {
	f     jetstream.PubAckFuture
	line  int
	event bool
}

func (p *publisher) publish(ctx context.Context, msg *nats.Msg, line int, event bool, st *ReplayStats) error {
	f, err := p.js.PublishMsgAsync(msg)
	if err != nil {
		return fmt.Errorf("recording: publishing line %d to %s: %w", line, msg.Subject, err)
	}
	p.pending = append(p.pending, inFlight{f: f, line: line, event: event})
	for len(p.pending)-p.head >= p.window {
		if err := p.waitOldest(ctx, st); err != nil {
			return err
		}
	}
	if p.head > p.window { // reuse the slice's front
		p.pending = p.pending[:copy(p.pending, p.pending[p.head:])]
		p.head = 0
	}
	return nil
}

func (p *publisher) waitOldest(ctx context.Context, st *ReplayStats) error {
	a := p.pending[p.head]
	select {
	case ack := <-a.f.Ok():
		if a.event && ack.Duplicate {
			st.Duplicates++
		}
	case err := <-a.f.Err():
		p.head++
		return fmt.Errorf("recording: publishing line %d to %s: %w", a.line, a.f.Msg().Subject, err)
	case <-ctx.Done():
		return ctx.Err()
	}
	p.pending[p.head] = inFlight{}
	p.head++
	return nil
}

// drain waits for every ack in flight.
func (p *publisher) drain(ctx context.Context, st *ReplayStats) error {
	var first error
	for p.head < len(p.pending) {
		if err := p.waitOldest(ctx, st); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			first = cmp.Or(first, err)
		}
	}
	p.pending, p.head = p.pending[:0], 0
	return first
}
