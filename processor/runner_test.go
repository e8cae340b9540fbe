package processor_test

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/internal/testenv"
	"github.com/beckon-chat/beckon/processor"
	"github.com/beckon-chat/beckon/rules"
	"github.com/beckon-chat/beckon/schemas"
	"github.com/beckon-chat/beckon/sink"
)

const testPartitions = 4

// pipeline is an embedded JetStream with Beckon's streams and consumers.
type pipeline struct {
	env  *testenv.JetStream
	sink *sink.Sink
	set  *rules.Set
}

func newPipeline(t *testing.T, set *rules.Set) *pipeline {
	t.Helper()
	env := testenv.StartJetStream(t)
	ctx := context.Background()
	_, err := streams.EnsureEvents(ctx, env.JS, streams.EventsConfig{Partitions: testPartitions})
	require.NoError(t, err)
	require.NoError(t, streams.EnsureInvitations(ctx, env.JS, streams.InvitationsConfig{}))
	// Short waits, so that a crashed runner's messages come back quickly.
	require.NoError(t, streams.EnsureConsumers(ctx, env.JS, testPartitions, streams.ConsumerConfig{AckWait: 2 * time.Second, PinnedTTL: time.Second}))
	s, err := sink.New(sink.Config{Conn: env.Conn})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return &pipeline{env: env, sink: s, set: set}
}

// startRunner runs a runner until the returned stop is called.
func (p *pipeline) startRunner(t *testing.T) (stop func()) {
	t.Helper()
	r, err := processor.NewRunner(context.Background(), processor.RunnerConfig{
		JetStream: p.env.JS, Rules: p.set, Publisher: p.sink, Partitions: testPartitions, MaxBatch: 256,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Error("runner did not stop")
		}
	}
	t.Cleanup(stop)
	return stop
}

// publish sends events as ingest does: each visitor's to its partition,
// ticks to every partition, msgpack bodies, ids as Nats-Msg-Id.
func (p *pipeline) publish(t *testing.T, events []schemas.Event) {
	t.Helper()
	wait := func() {
		select {
		case <-p.env.JS.PublishAsyncComplete():
		case <-time.After(30 * time.Second):
			t.Fatal("publish not acknowledged")
		}
	}
	for i := range events {
		if i%500 == 0 {
			wait()
		}
		e := &events[i]
		body, err := msgpack.Marshal(e)
		require.NoError(t, err)
		if e.Type == schemas.Tick {
			for part := range testPartitions {
				_, err := p.env.JS.PublishMsgAsync(&nats.Msg{Subject: streams.TickSubject(part), Data: body})
				require.NoError(t, err)
			}
			continue
		}
		msg := &nats.Msg{Subject: streams.EventSubject(streams.Partition(e.WidgetID, e.VisitorID, testPartitions), e.WidgetID, e.VisitorID), Data: body, Header: nats.Header{}}
		if e.ID != "" {
			msg.Header.Set(nats.MsgIdHdr, e.ID)
		}
		_, err = p.env.JS.PublishMsgAsync(msg)
		require.NoError(t, err)
	}
	wait()
}

// invitations reads the invitations stream once it holds want messages.
func (p *pipeline) invitations(t *testing.T, want int) []schemas.Invitation {
	t.Helper()
	ctx := context.Background()
	require.Eventually(t, func() bool {
		s, err := p.env.JS.Stream(ctx, streams.InvitationsStream)
		require.NoError(t, err)
		info, err := s.Info(ctx)
		require.NoError(t, err)
		return info.State.Msgs >= uint64(want)
	}, 60*time.Second, 50*time.Millisecond, "want %d invitations", want)
	time.Sleep(200 * time.Millisecond) // a late duplicate would show now
	s, err := p.env.JS.Stream(ctx, streams.InvitationsStream)
	require.NoError(t, err)
	oc, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	var out []schemas.Invitation
	for uint64(len(out)) < info.State.Msgs {
		m, err := oc.Next(jetstream.FetchMaxWait(5 * time.Second))
		require.NoError(t, err)
		var inv schemas.Invitation
		require.NoError(t, msgpack.Unmarshal(m.Data(), &inv))
		out = append(out, inv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].InvitationID < out[j].InvitationID })
	return out
}

// withFinalTick ends a stream the way a replay does: a tick past every
// presence window lets each pending timer fire, as Drain does in eval.
func withFinalTick(stream []schemas.Event) []schemas.Event {
	last := stream[len(stream)-1].TS
	return append(stream, schemas.Event{Type: schemas.Tick, TS: last + time.Hour.Milliseconds()})
}

func TestRunnerGivesEvalInvitations(t *testing.T) {
	set, err := rules.Parse([]byte(mixedRules), "mixed.yaml")
	require.NoError(t, err)
	stream := withFinalTick(randomStream(11, 5000))
	want := runPartitioned(set, stream, 1)
	require.NotEmpty(t, want)

	p := newPipeline(t, set)
	p.startRunner(t)
	p.publish(t, stream)
	assert.Equal(t, want, p.invitations(t, len(want)))
}

func TestRunnerRestartPublishesNothingTwiceAndLosesNothing(t *testing.T) {
	set, err := rules.Parse([]byte(mixedRules), "mixed.yaml")
	require.NoError(t, err)
	stream := withFinalTick(randomStream(12, 8000))
	want := runPartitioned(set, stream, 1)

	p := newPipeline(t, set)
	stop := p.startRunner(t)
	half := len(stream) / 2
	p.publish(t, stream[:half])
	time.Sleep(300 * time.Millisecond)
	stop() // a deploy: the runner stops mid-stream
	p.publish(t, stream[half:])
	p.startRunner(t)
	assert.Equal(t, want, p.invitations(t, len(want)))
}

func TestRunnerRebuildsFromCheckpoint(t *testing.T) {
	set, err := rules.Parse([]byte(mixedRules), "mixed.yaml")
	require.NoError(t, err)
	stream := withFinalTick(randomStream(13, 6000))
	want := runPartitioned(set, stream, 1)

	p := newPipeline(t, set)
	for i, cut := range []int{2000, 4000} {
		from := []int{0, 2000}[i]
		stop := p.startRunner(t)
		p.publish(t, stream[from:cut])
		time.Sleep(1500 * time.Millisecond) // past a checkpoint
		stop()
	}
	p.publish(t, stream[4000:])
	p.startRunner(t)
	assert.Equal(t, want, p.invitations(t, len(want)))
}

// crashingPublisher stores the first invitations of a batch and then fails,
// as a processor that dies between publishing and acking would.
type crashingPublisher struct {
	processor.Publisher
	mu    sync.Mutex // partitions publish concurrently
	after int
}

func (c *crashingPublisher) Publish(ctx context.Context, invs []schemas.Invitation) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := max(0, min(c.after, len(invs)))
	if err := c.Publisher.Publish(ctx, invs[:n]); err != nil {
		return err
	}
	c.after -= n
	if c.after <= 0 {
		return context.DeadlineExceeded
	}
	return nil
}

func TestRunnerCrashBetweenPublishAndAck(t *testing.T) {
	set, err := rules.Parse([]byte(mixedRules), "mixed.yaml")
	require.NoError(t, err)
	stream := withFinalTick(randomStream(14, 6000))
	want := runPartitioned(set, stream, 1)
	require.Greater(t, len(want), 40)

	p := newPipeline(t, set)
	r, err := processor.NewRunner(context.Background(), processor.RunnerConfig{
		JetStream: p.env.JS, Rules: set, Publisher: &crashingPublisher{Publisher: p.sink, after: len(want) / 2},
		Partitions: testPartitions, MaxBatch: 256,
	})
	require.NoError(t, err)
	p.publish(t, stream)
	err = r.Run(context.Background())
	require.Error(t, err, "the runner stops when it cannot publish")
	p.startRunner(t)
	assert.Equal(t, want, p.invitations(t, len(want)))
}
