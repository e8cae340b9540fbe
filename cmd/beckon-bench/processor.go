package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/beckon-chat/beckon/internal/benchkit"
	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/processor"
	"github.com/beckon-chat/beckon/schemas"
	"github.com/beckon-chat/beckon/sink"
)

const benchPartitions = streams.DefaultPartitions

// runProcessor is the processor stage: a pre-filled events stream (file
// storage, 16 partitions) through processor.Runner — decode, evaluate,
// publish invitations through the sink, AckAll — beside the bare floor of
// the same stream: one consumer per partition with the same batched pull,
// acking each batch's last message, doing nothing else.
func runProcessor(ctx context.Context, b *bench) ([]row, error) {
	events, err := benchkit.Traffic(b.ProcEvents)
	if err != nil {
		return nil, err
	}
	e, err := startNATS(ctx, b, "processor", benchPartitions)
	if err != nil {
		return nil, err
	}
	defer e.close()
	counts, err := prefill(ctx, e.js, events, benchPartitions)
	if err != nil {
		return nil, err
	}
	total := 0
	for _, c := range counts {
		total += c
	}
	events = nil

	// The machine is shared: each figure is the best of two rounds, and the
	// rounds interleave the floor and the runner so that both see the same
	// weather.
	var bareRate, rate, asyncRate float64
	invs := 0
	for round := range 2 {
		bare, err := bareFetch(ctx, e.js, counts, round)
		if err != nil {
			return nil, fmt.Errorf("bare fetch: %w", err)
		}
		bareRate = max(bareRate, float64(total)/bare.Seconds())
		took, n, err := runRunner(ctx, b, e, total, false)
		if err != nil {
			return nil, err
		}
		rate, invs = max(rate, float64(total)/took.Seconds()), n
		took, _, err = runRunner(ctx, b, e, total, true)
		if err != nil {
			return nil, err
		}
		asyncRate = max(asyncRate, float64(total)/took.Seconds())
	}
	return []row{
		{Stage: "processor", Metric: fmt.Sprintf("events/s (%d msgs, %d invitations)", total, invs),
			Value: si(rate, "ev/s"), Baseline: "bare fetch+AckAll: " + si(bareRate, "msg/s"), Ratio: ratio(rate, bareRate),
			Target: "≥ 0.70×", Status: status(rate >= 0.7*bareRate)},
		{Stage: "processor", Metric: "  same, invitations by async batch publish", Value: si(asyncRate, "ev/s"),
			Baseline: "(what a batching sink would give)", Ratio: ratio(asyncRate, bareRate)},
	}, nil
}

// bareFetch reads every partition to its end through its own durable
// consumer, as the runner pulls (PullMaxMessages 1000), and acks the last
// message of every 1000 and the very last (AckAll).
func bareFetch(ctx context.Context, js jetstream.JetStream, counts []int, round int) (time.Duration, error) {
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, len(counts))
	for p, n := range counts {
		cfg := streams.ConsumerSpec(p, streams.ConsumerConfig{})
		cfg.Durable = fmt.Sprintf("bench-bare%d-p%02d", round, p)
		cfg.PriorityPolicy, cfg.PriorityGroups, cfg.PinnedTTL = jetstream.PriorityPolicyNone, nil, 0
		cons, err := js.CreateConsumer(ctx, streams.EventsStream, cfg)
		if err != nil {
			return 0, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			it, err := cons.Messages(jetstream.PullMaxMessages(1000))
			if err != nil {
				errs <- err
				return
			}
			defer it.Stop()
			for got := 1; got <= n; got++ {
				m, err := it.Next()
				if err != nil {
					errs <- err
					return
				}
				if _, err := m.Metadata(); err != nil { // the runner reads it too
					errs <- err
					return
				}
				if got%1000 == 0 || got == n {
					if err := m.DoubleAck(ctx); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// runRunner runs processor.Runner until it has applied and acked total
// messages, and returns how long that took and how many invitations it
// published.
func runRunner(ctx context.Context, b *bench, e *embedded, total int, async bool) (time.Duration, int, error) {
	// Fresh consumers and checkpoints for each run over the same stream.
	for p := range benchPartitions {
		if err := e.js.DeleteConsumer(ctx, streams.EventsStream, streams.ConsumerName(p)); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return 0, 0, err
		}
	}
	_ = e.js.DeleteKeyValue(ctx, streams.CheckpointBucket)
	if err := streams.EnsureConsumers(ctx, e.js, benchPartitions, streams.ConsumerConfig{}); err != nil {
		return 0, 0, err
	}
	quiet := slog.New(slog.DiscardHandler)
	// The sink has a connection of its own, as in beckon serve: on the
	// fetching connection its acks would queue behind prefetched events.
	sinkConn, err := e.connect()
	if err != nil {
		return 0, 0, err
	}
	defer sinkConn.Close()
	reg := prometheus.NewRegistry()
	snk, err := sink.New(sink.Config{Conn: sinkConn, Logger: quiet, Registerer: reg})
	if err != nil {
		return 0, 0, err
	}
	defer snk.Close()
	var pub processor.Publisher = snk
	if async {
		pjs, err := jetstream.New(sinkConn, jetstream.WithPublishAsyncMaxPending(16384))
		if err != nil {
			return 0, 0, err
		}
		pub = &countingPublisher{Publisher: &asyncPublisher{js: pjs}}
	}
	r, err := processor.NewRunner(ctx, processor.RunnerConfig{JetStream: e.js, Rules: b.rules, Publisher: pub,
		Partitions: benchPartitions, Logger: quiet, Registerer: reg, CheckpointEvery: time.Hour})
	if err != nil {
		return 0, 0, err
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	start := time.Now()
	if f := os.Getenv("BECKON_BENCH_RUNNER_PROFILE"); f != "" {
		pf, _ := os.Create(f)
		pprof.StartCPUProfile(pf)
		defer pprof.StopCPUProfile()
	}
	go func() { done <- r.Run(rctx) }()
	defer func() {
		cancel()
		<-done
	}()
	for applied := 0; applied < total; {
		select {
		case err := <-done:
			return 0, 0, fmt.Errorf("runner stopped: %w", err)
		case <-time.After(10 * time.Millisecond):
		}
		applied = int(counter(reg, "beckon_processor_events_total"))
	}
	// Every message applied; now wait for the last acks.
	for {
		pending := 0
		for p := range benchPartitions {
			c, err := e.js.Consumer(ctx, streams.EventsStream, streams.ConsumerName(p))
			if err != nil {
				return 0, 0, err
			}
			info, err := c.Info(ctx)
			if err != nil {
				return 0, 0, err
			}
			pending += info.NumAckPending + int(info.NumPending)
		}
		if pending == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	took := time.Since(start)
	bc, bs := histogram(reg, "beckon_processor_batch_seconds")
	pc, ps := histogram(reg, "beckon_sink_publish_seconds")
	b.log.Info("runner", "took", took, "batches", bc, "batch_seconds", bs, "publishes", pc, "publish_seconds", ps)
	if cp, ok := pub.(*countingPublisher); ok {
		return took, int(cp.n.Load()), nil
	}
	return took, int(counter(reg, "beckon_invitations_published_total")), nil
}

// counter reads a counter of reg; 0 when it is not there.
func counter(reg *prometheus.Registry, name string) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		return 0
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			sum := 0.0
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
			return sum
		}
	}
	return 0
}

// histogram reads the count and sum of a histogram of reg.
func histogram(reg *prometheus.Registry, name string) (uint64, float64) {
	mfs, err := reg.Gather()
	if err != nil {
		return 0, 0
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			h := mf.GetMetric()[0].GetHistogram()
			return h.GetSampleCount(), h.GetSampleSum()
		}
	}
	return 0, 0
}

// asyncPublisher is what a batching sink would do, for comparison with the
// sink (watermill, one synchronous JetStream round trip per invitation):
// publish a batch's invitations with PublishMsgAsync and wait for all their
// acks. It has none of the sink's retries; it measures the limit.
type asyncPublisher struct {
	js jetstream.JetStream
}

func (a *asyncPublisher) Publish(ctx context.Context, invs []schemas.Invitation) error {
	futs := make([]jetstream.PubAckFuture, 0, len(invs))
	for i := range invs {
		inv := &invs[i]
		body, err := msgpack.Marshal(inv)
		if err != nil {
			return err
		}
		f, err := a.js.PublishMsgAsync(&nats.Msg{Subject: streams.InvitationSubject(inv.WidgetID, inv.VisitorID), Data: body,
			Header: nats.Header{jetstream.MsgIDHeader: []string{inv.InvitationID}}})
		if err != nil {
			return err
		}
		futs = append(futs, f)
	}
	for _, f := range futs {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// countingPublisher counts what it publishes.
type countingPublisher struct {
	processor.Publisher
	n atomic.Int64
}

func (c *countingPublisher) Publish(ctx context.Context, invs []schemas.Invitation) error {
	err := c.Publisher.Publish(ctx, invs)
	if err == nil {
		c.n.Add(int64(len(invs)))
	}
	return err
}
