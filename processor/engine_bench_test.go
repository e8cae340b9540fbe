package processor_test

import (
	"testing"
	"time"

	"github.com/beckon-chat/beckon/internal/gen"
	"github.com/beckon-chat/beckon/processor"
	"github.com/beckon-chat/beckon/rules"
	"github.com/beckon-chat/beckon/schemas"
)

// BenchmarkEngine is the engine's steady state: deploy/rules/bench.yaml
// (3 widgets × 10 rules, every operator) over pre-decoded synthetic traffic
// with tens of thousands of open sessions, the engine warmed by one lap of
// the traffic. cmd/beckon-bench runs the same measurement beside its
// baseline; see BENCHMARKS.md.
func BenchmarkEngine(b *testing.B) {
	set, err := rules.Load("../deploy/rules/bench.yaml")
	if err != nil {
		b.Fatal(err)
	}
	events := engineTraffic(b, 200_000)
	b.Run("bench.yaml", func(b *testing.B) { benchmarkEngine(b, set, events) })
}

// engineTraffic is n events of 100 arrivals a second, ticks every second.
func engineTraffic(b *testing.B, n int) []schemas.Event {
	b.Helper()
	events := make([]schemas.Event, 0, n)
	err := gen.Generate(gen.Config{Seed: 1, Visitors: n / 4, Events: n, ArrivalEvery: 10 * time.Millisecond, TickEvery: time.Second},
		func(ev *schemas.Event) error { events = append(events, *ev); return nil })
	if err != nil {
		b.Fatal(err)
	}
	return events
}

// benchmarkEngine applies events in a loop; each lap is shifted past the
// session timeout of the one before, so that the time never goes back and
// every lap's states are created and expired as in a long-running stream.
func benchmarkEngine(b *testing.B, set *rules.Set, events []schemas.Event) {
	eng := processor.New(set)
	out := make([]schemas.Invitation, 0, 16)
	lap := events[len(events)-1].TS - events[0].TS + 2*time.Hour.Milliseconds()
	shift := func() {
		for i := range events {
			events[i].TS += lap
		}
	}
	for i := range events {
		out = eng.Apply(&events[i], out[:0])
	}
	shift()
	b.ReportAllocs()
	b.ResetTimer()
	fired := 0
	for i, j := 0, 0; i < b.N; i++ {
		if j == len(events) {
			b.StopTimer()
			shift()
			j = 0
			b.StartTimer()
		}
		out = eng.Apply(&events[j], out[:0])
		fired += len(out)
		j++
	}
	b.ReportMetric(float64(fired)/float64(b.N), "invitations/event")
}
