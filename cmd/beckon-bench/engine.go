package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/beckon-chat/beckon/internal/benchkit"
	"github.com/beckon-chat/beckon/schemas"
)

// runEngine is the engine's steady state (processor.BenchmarkEngine): each
// lap of the traffic is shifted past the last one's sessions, so that time
// never goes back and every state is created and expired in turn. The
// baseline is the floor of any per-visitor state: one map lookup by
// visitor per event.
func runEngine(_ context.Context, b *bench) ([]row, error) {
	events, err := benchkit.Traffic(b.EngineEvents)
	if err != nil {
		return nil, err
	}
	var fired float64
	res, base := benchmarkPair(b.EngineBenchtime,
		func(tb *testing.B) { fired = benchkit.EngineLoop(tb, b.rules, events) },
		func(tb *testing.B) { mapLoop(tb, events) })
	ns := float64(res.T.Nanoseconds()) / float64(res.N)
	allocs := float64(res.MemAllocs) / float64(res.N)
	baseNs := float64(base.T.Nanoseconds()) / float64(base.N)
	return []row{
		{Stage: "engine", Metric: "ns/event", Value: fmt.Sprintf("%.0f", ns),
			Baseline: fmt.Sprintf("map lookup per event: %.0f ns", baseNs), Ratio: ratio(ns, baseNs),
			Target: "≤ 500 ns", Status: status(ns <= 500)},
		{Stage: "engine", Metric: "allocs/event", Value: fmt.Sprintf("%.3f", allocs),
			Baseline: fmt.Sprintf("B/event: %.1f; invitations/event: %.3f", float64(res.MemBytes)/float64(res.N), fired),
			Target:   "0", Status: status(allocs < 0.01)},
	}, nil
}

// benchmarkPair runs f and its baseline as testing.Benchmark does, in turn
// for about d, and keeps the fastest run of each, which suits a noisy
// machine. testing.Benchmark reads -test.benchtime; without testing's flags
// registered each run is its default second.
func benchmarkPair(d time.Duration, f, base func(*testing.B)) (fr, br testing.BenchmarkResult) {
	for start := time.Now(); fr.N == 0 || time.Since(start) < d; {
		if r := testing.Benchmark(f); fr.N == 0 || r.NsPerOp() < fr.NsPerOp() {
			fr = r
		}
		if r := testing.Benchmark(base); br.N == 0 || r.NsPerOp() < br.NsPerOp() {
			br = r
		}
	}
	return fr, br
}

type floorState struct {
	last  int64
	count int
}

func mapLoop(tb *testing.B, events []schemas.Event) {
	m := make(map[string]*floorState)
	tb.ReportAllocs()
	tb.ResetTimer()
	for i, j := 0, 0; i < tb.N; i++ {
		if j == len(events) {
			j = 0
		}
		ev := &events[j]
		j++
		s := m[ev.VisitorID]
		if s == nil {
			s = &floorState{}
			m[ev.VisitorID] = s
		}
		s.last = ev.TS
		s.count++
	}
}
