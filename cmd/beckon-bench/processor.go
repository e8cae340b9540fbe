package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/processor"
	"github.com/beckon-chat/beckon/sink"
)

const benchPartitions = streams.DefaultPartitions

// runProcessor is the processor stage: a pre-filled events stream (file
// storage, 16 partitions) through processor.Runner — decode, evaluate,
// publish invitations through the sink, AckAll — beside the bare floor of
// the same stream: one consumer per partition with the same batched pull,
// acking each batch's last message, doing nothing else.
func runProcessor(ctx context.Context, b *bench) ([]row, error) {
	events, err := traffic(b.ProcEvents)
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

	bare, err := bareFetch(ctx, e.js, counts)
	if err != nil {
		return nil, fmt.Errorf("bare fetch: %w", err)
	}
	bareRate := float64(total) / bare.Seconds()

	took, invs, err := runRunner(ctx, b, e, total)
	if err != nil {
		return nil, err
	}
	rate := float64(total) / took.Seconds()
	return []row{{Stage: "processor", Metric: fmt.Sprintf("events/s (%d msgs, %d invitations)", total, invs),
		Value: si(rate, "ev/s"), Baseline: "bare fetch+AckAll: " + si(bareRate, "msg/s"), Ratio: ratio(rate, bareRate),
		Target: "≥ 0.70×", Status: status(rate >= 0.7*bareRate)}}, nil
}

// bareFetch reads every partition to its end through its own durable
// consumer, as the runner pulls (PullMaxMessages 1000), and acks the last
// message of every 1000 and the very last (AckAll).
func bareFetch(ctx context.Context, js jetstream.JetStream, counts []int) (time.Duration, error) {
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, len(counts))
	for p, n := range counts {
		cfg := streams.ConsumerSpec(p, streams.ConsumerConfig{})
		cfg.Durable = fmt.Sprintf("bench-bare-p%02d", p)
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
func runRunner(ctx context.Context, b *bench, e *embedded, total int) (time.Duration, int, error) {
	if err := streams.EnsureConsumers(ctx, e.js, benchPartitions, streams.ConsumerConfig{}); err != nil {
		return 0, 0, err
	}
	quiet := slog.New(slog.DiscardHandler)
	reg := prometheus.NewRegistry()
	snk, err := sink.New(sink.Config{Conn: e.nc, Logger: quiet, Registerer: reg})
	if err != nil {
		return 0, 0, err
	}
	defer snk.Close()
	r, err := processor.NewRunner(ctx, processor.RunnerConfig{JetStream: e.js, Rules: b.rules, Publisher: snk,
		Partitions: benchPartitions, Logger: quiet, Registerer: reg, CheckpointEvery: time.Hour})
	if err != nil {
		return 0, 0, err
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	start := time.Now()
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
