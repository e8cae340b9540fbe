package processor_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/internal/testenv"
	"github.com/beckon-chat/beckon/processor"
	"github.com/beckon-chat/beckon/rules"
	"github.com/beckon-chat/beckon/schemas"
)

const testPartitions = 4

// pipeline is a live pipeline and a way to publish events into it.
type pipeline struct {
	*testenv.Pipeline
}

func newPipeline(t *testing.T, set *rules.Set) *pipeline {
	t.Helper()
	return &pipeline{testenv.StartPipeline(t, set, testPartitions)}
}

// publish sends events as ingest does: each visitor's to its partition,
// ticks to every partition, msgpack bodies, ids as Nats-Msg-Id.
func (p *pipeline) publish(t *testing.T, events []schemas.Event) {
	t.Helper()
	wait := func() {
		select {
		case <-p.JS.PublishAsyncComplete():
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
				_, err := p.JS.PublishMsgAsync(&nats.Msg{Subject: streams.TickSubject(part), Data: body})
				require.NoError(t, err)
			}
			continue
		}
		msg := &nats.Msg{Subject: streams.EventSubject(streams.Partition(e.WidgetID, e.VisitorID, testPartitions), e.WidgetID, e.VisitorID), Data: body, Header: nats.Header{}}
		if e.ID != "" {
			msg.Header.Set(nats.MsgIdHdr, e.ID)
		}
		_, err = p.JS.PublishMsgAsync(msg)
		require.NoError(t, err)
	}
	wait()
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
	p.StartProcessors(t)
	p.publish(t, stream)
	assert.Equal(t, want, p.Invitations(t))
}

func TestRunnerRestartPublishesNothingTwiceAndLosesNothing(t *testing.T) {
	set, err := rules.Parse([]byte(mixedRules), "mixed.yaml")
	require.NoError(t, err)
	stream := withFinalTick(randomStream(12, 8000))
	want := runPartitioned(set, stream, 1)

	p := newPipeline(t, set)
	stop := p.StartProcessors(t)
	half := len(stream) / 2
	p.publish(t, stream[:half])
	time.Sleep(300 * time.Millisecond)
	stop() // a deploy: the runner stops mid-stream
	p.publish(t, stream[half:])
	p.StartProcessors(t)
	assert.Equal(t, want, p.Invitations(t))
}

func TestRunnerRebuildsFromCheckpoint(t *testing.T) {
	set, err := rules.Parse([]byte(mixedRules), "mixed.yaml")
	require.NoError(t, err)
	stream := withFinalTick(randomStream(13, 6000))
	want := runPartitioned(set, stream, 1)

	p := newPipeline(t, set)
	for i, cut := range []int{2000, 4000} {
		from := []int{0, 2000}[i]
		stop := p.StartProcessors(t)
		p.publish(t, stream[from:cut])
		time.Sleep(1500 * time.Millisecond) // past a checkpoint
		stop()
	}
	p.publish(t, stream[4000:])
	p.StartProcessors(t)
	assert.Equal(t, want, p.Invitations(t))
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
		JetStream: p.JS, Rules: set, Publisher: &crashingPublisher{Publisher: p.Sink, after: len(want) / 2},
		Partitions: testPartitions, MaxBatch: 256, RestartBackoff: -1, // stop, as a crash would
	})
	require.NoError(t, err)
	p.publish(t, stream)
	err = r.Run(context.Background())
	require.Error(t, err, "the runner stops when it cannot publish")
	p.StartProcessors(t)
	assert.Equal(t, want, p.Invitations(t))
}

// flakyPublisher fails its first calls, as a sink would while NATS is away
// for longer than its retries.
type flakyPublisher struct {
	processor.Publisher
	mu    sync.Mutex
	fails int
}

func (f *flakyPublisher) Publish(ctx context.Context, invs []schemas.Invitation) error {
	f.mu.Lock()
	fail := f.fails > 0
	f.fails--
	f.mu.Unlock()
	if fail {
		return context.DeadlineExceeded
	}
	return f.Publisher.Publish(ctx, invs)
}

func TestRunnerRestartsAFailedPartition(t *testing.T) {
	set, err := rules.Parse([]byte(mixedRules), "mixed.yaml")
	require.NoError(t, err)
	stream := withFinalTick(randomStream(15, 6000))
	want := runPartitioned(set, stream, 1)

	p := newPipeline(t, set)
	r, err := processor.NewRunner(context.Background(), processor.RunnerConfig{
		JetStream: p.JS, Rules: set, Publisher: &flakyPublisher{Publisher: p.Sink, fails: 3},
		Partitions: testPartitions, MaxBatch: 256, RestartBackoff: 50 * time.Millisecond,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	p.publish(t, stream)
	assert.Equal(t, want, p.Invitations(t), "failed partitions start again and lose nothing")
	cancel()
	require.NoError(t, <-done)
}
