package streams_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/internal/testenv"
)

func TestEnsureEventsCreatesWithDefaultsAndIsIdempotent(t *testing.T) {
	js := testenv.StartJetStream(t).JS
	ctx := context.Background()

	n, err := streams.EnsureEvents(ctx, js, streams.EventsConfig{})
	require.NoError(t, err)
	assert.Equal(t, streams.DefaultPartitions, n)

	s, err := js.Stream(ctx, streams.EventsStream)
	require.NoError(t, err)
	cfg := s.CachedInfo().Config
	assert.Equal(t, []string{"beckon.events.>"}, cfg.Subjects)
	assert.Equal(t, jetstream.FileStorage, cfg.Storage)
	assert.Equal(t, jetstream.LimitsPolicy, cfg.Retention)
	assert.Equal(t, 24*time.Hour, cfg.MaxAge)
	assert.Equal(t, 1, cfg.Replicas)
	assert.Equal(t, streams.DefaultEventsDuplicates, cfg.Duplicates)
	assert.Equal(t, "16", cfg.Metadata[streams.PartitionsKey])

	// The same config again, explicit or zero, changes nothing.
	for _, c := range []streams.EventsConfig{{}, {Partitions: 16, MaxAge: 24 * time.Hour, Replicas: 1, Duplicates: 2 * time.Minute}} {
		n, err = streams.EnsureEvents(ctx, js, c)
		require.NoError(t, err)
		assert.Equal(t, 16, n)
	}
	s2, err := js.Stream(ctx, streams.EventsStream)
	require.NoError(t, err)
	assert.Equal(t, s.CachedInfo().Created, s2.CachedInfo().Created)
}

func TestEnsureEventsDiscoversPartitions(t *testing.T) {
	js := testenv.StartJetStream(t).JS
	ctx := context.Background()
	n, err := streams.EnsureEvents(ctx, js, streams.EventsConfig{Partitions: 4})
	require.NoError(t, err)
	require.Equal(t, 4, n)

	// `beckon process` and `beckon ingest` pass no partition count.
	n, err = streams.EnsureEvents(ctx, js, streams.EventsConfig{})
	require.NoError(t, err)
	assert.Equal(t, 4, n)
}

func TestEnsureEventsConflictNamesTheSetting(t *testing.T) {
	js := testenv.StartJetStream(t).JS
	ctx := context.Background()
	_, err := streams.EnsureEvents(ctx, js, streams.EventsConfig{Partitions: 8})
	require.NoError(t, err)

	tests := []struct {
		name string
		cfg  streams.EventsConfig
		want string
	}{
		{"partitions", streams.EventsConfig{Partitions: 16}, "stream BECKON_EVENTS exists with partitions=8, want 16 (changing the partition count is a migration: see README)"},
		{"max age", streams.EventsConfig{MaxAge: time.Hour}, "max_age=24h0m0s, want 1h0m0s"},
		{"replicas", streams.EventsConfig{Replicas: 3}, "replicas=1, want 3"},
		{"duplicates", streams.EventsConfig{Duplicates: time.Minute}, "duplicate_window=2m0s, want 1m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := streams.EnsureEvents(ctx, js, tt.cfg)
			require.ErrorIs(t, err, streams.ErrConfigConflict)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestEnsureEventsRejectsForeignStream(t *testing.T) {
	js := testenv.StartJetStream(t).JS
	ctx := context.Background()
	_, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: streams.EventsStream, Subjects: []string{"beckon.events.>"}, Storage: jetstream.MemoryStorage,
	})
	require.NoError(t, err)

	_, err = streams.EnsureEvents(ctx, js, streams.EventsConfig{})
	require.ErrorIs(t, err, streams.ErrConfigConflict)
	assert.Contains(t, err.Error(), "beckon.partitions")

	_, err = js.UpdateStream(ctx, jetstream.StreamConfig{
		Name: streams.EventsStream, Subjects: []string{"beckon.events.>", "other.>"}, Storage: jetstream.MemoryStorage,
		Metadata: map[string]string{streams.PartitionsKey: "16"},
	})
	require.NoError(t, err)
	_, err = streams.EnsureEvents(ctx, js, streams.EventsConfig{})
	require.ErrorIs(t, err, streams.ErrConfigConflict)
	assert.Contains(t, err.Error(), "subjects=[beckon.events.> other.>], want [beckon.events.>]")
	assert.Contains(t, err.Error(), "storage=Memory, want File")
}

func TestEnsureInvitations(t *testing.T) {
	js := testenv.StartJetStream(t).JS
	ctx := context.Background()
	require.NoError(t, streams.EnsureInvitations(ctx, js, streams.InvitationsConfig{}))
	require.NoError(t, streams.EnsureInvitations(ctx, js, streams.InvitationsConfig{}))
	require.NoError(t, streams.EnsureInvitations(ctx, js, streams.InvitationsConfig{MaxAge: time.Hour, Duplicates: time.Hour}))

	s, err := js.Stream(ctx, streams.InvitationsStream)
	require.NoError(t, err)
	cfg := s.CachedInfo().Config
	assert.Equal(t, []string{"beckon.invitations.>"}, cfg.Subjects)
	assert.Equal(t, time.Hour, cfg.MaxAge)
	assert.Equal(t, time.Hour, cfg.Duplicates, "the window covers every invitation still kept")

	err = streams.EnsureInvitations(ctx, js, streams.InvitationsConfig{MaxAge: 2 * time.Hour})
	require.ErrorIs(t, err, streams.ErrConfigConflict)
	assert.Contains(t, err.Error(), "stream BECKON_INVITATIONS exists with max_age=1h0m0s, want 2h0m0s")
}

func TestEnsureRejectsInvalidConfig(t *testing.T) {
	js := testenv.StartJetStream(t).JS
	ctx := context.Background()
	_, err := streams.EnsureEvents(ctx, js, streams.EventsConfig{Partitions: -1})
	assert.ErrorIs(t, err, streams.ErrInvalidConfig)
	_, err = streams.EnsureEvents(ctx, js, streams.EventsConfig{MaxAge: time.Minute})
	assert.ErrorIs(t, err, streams.ErrInvalidConfig, "duplicates window longer than max age")
	assert.ErrorIs(t, streams.EnsureConsumers(ctx, js, 0, streams.ConsumerConfig{}), streams.ErrInvalidConfig)
}

func TestEnsureConsumers(t *testing.T) {
	js := testenv.StartJetStream(t).JS
	ctx := context.Background()
	n, err := streams.EnsureEvents(ctx, js, streams.EventsConfig{Partitions: 3})
	require.NoError(t, err)

	require.NoError(t, streams.EnsureConsumers(ctx, js, n, streams.ConsumerConfig{}))
	require.NoError(t, streams.EnsureConsumers(ctx, js, n, streams.ConsumerConfig{}))

	for p := range n {
		c, err := js.Consumer(ctx, streams.EventsStream, streams.ConsumerName(p))
		require.NoError(t, err)
		cfg := c.CachedInfo().Config
		assert.Equal(t, streams.PartitionFilter(p), cfg.FilterSubject)
		assert.Equal(t, jetstream.AckAllPolicy, cfg.AckPolicy)
		assert.Equal(t, jetstream.DeliverAllPolicy, cfg.DeliverPolicy)
		assert.Equal(t, jetstream.PriorityPolicyPinned, cfg.PriorityPolicy)
		assert.Equal(t, []string{streams.PriorityGroup}, cfg.PriorityGroups)
		assert.Equal(t, streams.DefaultPinnedTTL, cfg.PinnedTTL)
		assert.Equal(t, streams.DefaultMaxAckPending, cfg.MaxAckPending)
		assert.Equal(t, streams.DefaultAckWait, cfg.AckWait)
	}

	err = streams.EnsureConsumers(ctx, js, n, streams.ConsumerConfig{AckWait: time.Minute})
	require.ErrorIs(t, err, streams.ErrConfigConflict)
	assert.Contains(t, err.Error(), "consumer beckon-p00 exists with ack_wait=30s, want 1m0s")

	// A processor of the pinned group can fetch from its partition.
	_, err = js.Publish(ctx, streams.TickSubject(1), []byte("x"))
	require.NoError(t, err)
	c, err := js.Consumer(ctx, streams.EventsStream, streams.ConsumerName(1))
	require.NoError(t, err)
	batch, err := c.Fetch(1, jetstream.FetchPriorityGroup(streams.PriorityGroup), jetstream.FetchMaxWait(2*time.Second))
	require.NoError(t, err)
	got := 0
	for m := range batch.Messages() {
		assert.Equal(t, streams.TickSubject(1), m.Subject())
		got++
	}
	assert.Equal(t, 1, got)
}

func TestCheck(t *testing.T) {
	js := testenv.StartJetStream(t).JS
	ctx := context.Background()
	require.ErrorIs(t, streams.Check(ctx, js), streams.ErrStreamMissing)
	_, err := streams.EnsureEvents(ctx, js, streams.EventsConfig{})
	require.NoError(t, err)
	err = streams.Check(ctx, js)
	require.ErrorIs(t, err, streams.ErrStreamMissing)
	assert.Contains(t, err.Error(), streams.InvitationsStream)
	require.NoError(t, streams.EnsureInvitations(ctx, js, streams.InvitationsConfig{}))
	require.NoError(t, streams.Check(ctx, js))
}
