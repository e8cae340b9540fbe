package streams

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Defaults of the settings that EnsureEvents and EnsureInvitations apply
// when they create a stream.
const (
	// DefaultEventsDuplicates is the events stream's de-duplication window:
	// long enough for the tracker's retries of a beacon (a few seconds
	// apart, for a minute or so), short enough that the server's table of
	// recent ids stays small at 100k events/s.
	DefaultEventsDuplicates = 2 * time.Minute
	// DefaultMaxAckPending bounds each partition consumer's unacknowledged
	// messages: large, because processors ack a whole batch at once.
	DefaultMaxAckPending = 20000
	// DefaultAckWait is how long a delivered message may stay unacked
	// before it is redelivered.
	DefaultAckWait = 30 * time.Second
	// DefaultPinnedTTL is how long a pinned processor may go without a pull
	// request before the partition moves to another: short, so that a dead
	// processor's partitions move within seconds.
	DefaultPinnedTTL = 10 * time.Second
)

// EventsConfig is the events stream's settings. A zero field means: adopt
// the existing stream's value, or the default when the stream is created.
// So roles that only read the stream pass a zero EventsConfig, and the
// stream's creator decides; a non-zero field that differs from the existing
// stream is a conflict.
type EventsConfig struct {
	// Partitions is the partition count, fixed at creation (default
	// DefaultPartitions). Changing it is a migration: see README.
	Partitions int
	// MaxAge is how long events are kept for replay and processor rebuild
	// (default DefaultEventsMaxAge).
	MaxAge time.Duration
	// Replicas is 1 on one node and 3 in a cluster (default 1).
	Replicas int
	// Duplicates is the de-duplication window of Nats-Msg-Id (default
	// DefaultEventsDuplicates).
	Duplicates time.Duration
}

// InvitationsConfig is the invitations stream's settings, with the same
// zero-means-adopt rule as EventsConfig.
type InvitationsConfig struct {
	// MaxAge is how long invitations are kept (default
	// DefaultInvitationsMaxAge): they are perishable.
	MaxAge time.Duration
	// Replicas is 1 on one node and 3 in a cluster (default 1).
	Replicas int
	// Duplicates is the de-duplication window of invitation ids (default:
	// MaxAge). A processor that restarts re-reads its partitions from far
	// enough back to cover open sessions and publishes again every
	// invitation of that span; only a window as long as the invitations are
	// kept drops all of those re-publications. NATS allows no window
	// longer than the max age.
	Duplicates time.Duration
}

// EnsureEvents creates the events stream, or checks that the existing one
// agrees with cfg, and returns its partition count. It is idempotent: every
// role calls it at start.
func EnsureEvents(ctx context.Context, js jetstream.JetStream, cfg EventsConfig) (partitions int, err error) {
	if cfg.Partitions < 0 || cfg.Replicas < 0 || cfg.MaxAge < 0 || cfg.Duplicates < 0 {
		return 0, fmt.Errorf("%w: events stream settings must not be negative", ErrInvalidConfig)
	}
	want := jetstream.StreamConfig{
		Name:       EventsStream,
		Subjects:   []string{EventsPrefix + ".>"},
		Retention:  jetstream.LimitsPolicy,
		Storage:    jetstream.FileStorage,
		MaxAge:     or(cfg.MaxAge, DefaultEventsMaxAge),
		Replicas:   or(cfg.Replicas, 1),
		Duplicates: or(cfg.Duplicates, DefaultEventsDuplicates),
		Metadata:   map[string]string{PartitionsKey: strconv.Itoa(or(cfg.Partitions, DefaultPartitions))},
	}
	if want.Duplicates > want.MaxAge {
		return 0, fmt.Errorf("%w: events duplicates window %v is longer than the max age %v", ErrInvalidConfig, want.Duplicates, want.MaxAge)
	}
	got, err := ensureStream(ctx, js, want)
	if err != nil {
		return 0, err
	}
	n, err := PartitionsOf(got)
	if err != nil {
		return 0, err
	}
	c := conflicts{stream: EventsStream}
	c.common(got, want)
	if cfg.Partitions != 0 && n != cfg.Partitions {
		c.add(fmt.Sprintf("partitions=%d, want %d (changing the partition count is a migration: see README)", n, cfg.Partitions))
	}
	c.adopted(got.MaxAge, cfg.MaxAge, "max_age")
	c.adopted(got.Replicas, cfg.Replicas, "replicas")
	c.adopted(got.Duplicates, cfg.Duplicates, "duplicate_window")
	return n, c.err()
}

// EnsureInvitations creates the invitations stream, or checks that the
// existing one agrees with cfg.
func EnsureInvitations(ctx context.Context, js jetstream.JetStream, cfg InvitationsConfig) error {
	if cfg.Replicas < 0 || cfg.MaxAge < 0 || cfg.Duplicates < 0 {
		return fmt.Errorf("%w: invitations stream settings must not be negative", ErrInvalidConfig)
	}
	maxAge := or(cfg.MaxAge, DefaultInvitationsMaxAge)
	want := jetstream.StreamConfig{
		Name:       InvitationsStream,
		Subjects:   []string{InvitationsPrefix + ".>"},
		Retention:  jetstream.LimitsPolicy,
		Storage:    jetstream.FileStorage,
		MaxAge:     maxAge,
		Replicas:   or(cfg.Replicas, 1),
		Duplicates: or(cfg.Duplicates, maxAge),
	}
	if want.Duplicates > want.MaxAge {
		return fmt.Errorf("%w: invitations duplicates window %v is longer than the max age %v", ErrInvalidConfig, want.Duplicates, want.MaxAge)
	}
	got, err := ensureStream(ctx, js, want)
	if err != nil {
		return err
	}
	c := conflicts{stream: InvitationsStream}
	c.common(got, want)
	c.adopted(got.MaxAge, cfg.MaxAge, "max_age")
	c.adopted(got.Replicas, cfg.Replicas, "replicas")
	c.adopted(got.Duplicates, cfg.Duplicates, "duplicate_window")
	return c.err()
}

// PartitionsOf reads the partition count recorded in an events stream's
// metadata.
func PartitionsOf(cfg jetstream.StreamConfig) (int, error) {
	v, ok := cfg.Metadata[PartitionsKey]
	if !ok {
		return 0, fmt.Errorf("%w: stream %s exists without the %s metadata: it was not created by Beckon", ErrConfigConflict, cfg.Name, PartitionsKey)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%w: stream %s has %s=%q, want a positive integer", ErrConfigConflict, cfg.Name, PartitionsKey, v)
	}
	return n, nil
}

// Check reports whether both streams exist: the readiness of every role.
func Check(ctx context.Context, js jetstream.JetStream) error {
	for _, name := range []string{EventsStream, InvitationsStream} {
		if _, err := js.Stream(ctx, name); err != nil {
			if errors.Is(err, jetstream.ErrStreamNotFound) {
				return fmt.Errorf("%w: %s", ErrStreamMissing, name)
			}
			return fmt.Errorf("streams: stream %s: %w", name, err)
		}
	}
	return nil
}

// ensureStream returns the existing stream's config, or creates the stream
// from want and returns that. Two roles starting together may both try to
// create it; the loser reads the winner's.
func ensureStream(ctx context.Context, js jetstream.JetStream, want jetstream.StreamConfig) (jetstream.StreamConfig, error) {
	for attempt := 0; ; attempt++ {
		s, err := js.Stream(ctx, want.Name)
		if err == nil {
			return s.CachedInfo().Config, nil
		}
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			return jetstream.StreamConfig{}, fmt.Errorf("streams: stream %s: %w", want.Name, err)
		}
		s, err = js.CreateStream(ctx, want)
		if err == nil {
			return s.CachedInfo().Config, nil
		}
		if !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) || attempt > 0 {
			return jetstream.StreamConfig{}, fmt.Errorf("streams: create stream %s: %w", want.Name, err)
		}
	}
}

// conflicts collects the settings of an existing stream or consumer that
// differ from what is wanted, so that one error names them all.
type conflicts struct {
	stream   string
	consumer string
	diffs    []string
}

func (c *conflicts) add(d string) { c.diffs = append(c.diffs, d) }

// common compares what Beckon always sets on a stream.
func (c *conflicts) common(got, want jetstream.StreamConfig) {
	if !slices.Equal(got.Subjects, want.Subjects) {
		c.add(fmt.Sprintf("subjects=%v, want %v", got.Subjects, want.Subjects))
	}
	if got.Storage != want.Storage {
		c.add(fmt.Sprintf("storage=%v, want %v", got.Storage, want.Storage))
	}
	if got.Retention != want.Retention {
		c.add(fmt.Sprintf("retention=%v, want %v", got.Retention, want.Retention))
	}
}

// adopted compares a setting whose zero value means "whatever exists".
func (c *conflicts) adopted(got, want any, name string) {
	if isZero(want) || got == want {
		return
	}
	c.add(fmt.Sprintf("%s=%v, want %v", name, got, want))
}

func (c *conflicts) err() error {
	if len(c.diffs) == 0 {
		return nil
	}
	what := "stream " + c.stream
	if c.consumer != "" {
		what += " consumer " + c.consumer
	}
	return fmt.Errorf("%w: %s exists with %s", ErrConfigConflict, what, joinDiffs(c.diffs))
}

func joinDiffs(d []string) string {
	s := d[0]
	for _, x := range d[1:] {
		s += "; " + x
	}
	return s
}

func isZero(v any) bool {
	switch x := v.(type) {
	case int:
		return x == 0
	case time.Duration:
		return x == 0
	}
	return v == nil
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
