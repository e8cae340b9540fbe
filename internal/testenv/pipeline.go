package testenv

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/processor"
	"github.com/beckon-chat/beckon/rules"
	"github.com/beckon-chat/beckon/schemas"
	"github.com/beckon-chat/beckon/sink"
)

// Pipeline is an embedded JetStream with Beckon's streams, partition
// consumers and sink, and processors started on demand: what `beckon serve
// --ingest=false` runs, for tests that publish events themselves.
type Pipeline struct {
	*JetStream
	Rules      *rules.Set
	Sink       *sink.Sink
	Partitions int
}

// StartPipeline creates the streams with the given partition count. The
// consumers redeliver after 2 s and unpin a silent processor after 1 s, so
// that a test's crashed processor is taken over quickly.
func StartPipeline(t testing.TB, set *rules.Set, partitions int) *Pipeline {
	t.Helper()
	env := StartJetStream(t)
	ctx := context.Background()
	n, err := streams.EnsureEvents(ctx, env.JS, streams.EventsConfig{Partitions: partitions})
	require.NoError(t, err)
	require.NoError(t, streams.EnsureInvitations(ctx, env.JS, streams.InvitationsConfig{}))
	require.NoError(t, streams.EnsureConsumers(ctx, env.JS, n,
		streams.ConsumerConfig{AckWait: 2 * time.Second, PinnedTTL: time.Second}))
	s, err := sink.New(sink.Config{Conn: env.Conn})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return &Pipeline{JetStream: env, Rules: set, Sink: s, Partitions: n}
}

// StartProcessors runs a processor on every partition until stop is called
// (or the test ends). Several may run at once: they share the partitions.
func (p *Pipeline) StartProcessors(t testing.TB) (stop func()) {
	t.Helper()
	r, err := processor.NewRunner(context.Background(), processor.RunnerConfig{
		JetStream: p.JS, Rules: p.Rules, Publisher: p.Sink, Partitions: p.Partitions, MaxBatch: 256,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				assert.NoError(t, err, "the processors stop cleanly")
			case <-time.After(30 * time.Second):
				t.Error("the processors did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// Invitations waits until the processors have consumed the events stream
// and returns every stored invitation, sorted by id. An id stored twice
// fails the test.
func (p *Pipeline) Invitations(t testing.TB) []schemas.Invitation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, streams.WaitProcessed(ctx, p.JS))
	s, err := p.JS.Stream(ctx, streams.InvitationsStream)
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	out := make([]schemas.Invitation, 0, info.State.Msgs)
	if info.State.Msgs > 0 {
		oc, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
		require.NoError(t, err)
		for uint64(len(out)) < info.State.Msgs {
			m, err := oc.Next(jetstream.FetchMaxWait(5 * time.Second))
			require.NoError(t, err)
			var inv schemas.Invitation
			require.NoError(t, schemas.UnmarshalInvitation(m.Data(), &inv))
			out = append(out, inv)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].InvitationID < out[j].InvitationID })
	for i := 1; i < len(out); i++ {
		require.NotEqual(t, out[i-1].InvitationID, out[i].InvitationID, "an invitation is stored twice")
	}
	return out
}
