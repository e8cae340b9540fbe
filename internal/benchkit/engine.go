// Package benchkit holds the workloads that the benchmarks share, so that
// `go test -bench` and `make bench` (cmd/beckon-bench) measure the same
// thing.
package benchkit

import (
	"testing"
	"time"

	"github.com/beckon-chat/beckon/internal/gen"
	"github.com/beckon-chat/beckon/processor"
	"github.com/beckon-chat/beckon/rules"
	"github.com/beckon-chat/beckon/schemas"
)

// Traffic is n pre-decoded events of the generator: 100 visits start a
// second, so tens of thousands of visitor states are open at once, and a
// tick a second.
func Traffic(n int) ([]schemas.Event, error) {
	events := make([]schemas.Event, 0, n)
	err := gen.Generate(gen.Config{Seed: 1, Visitors: max(n/4, 1), Events: n, ArrivalEvery: 10 * time.Millisecond, TickEvery: time.Second},
		func(ev *schemas.Event) error { events = append(events, *ev); return nil })
	return events, err
}

// EngineLoop is the engine's steady state: the engine is warmed by one lap
// of the events, and each lap after is shifted past the last one's
// sessions, so that time never goes back and every state is created and
// expired in turn. It returns the invitations fired per event.
func EngineLoop(b *testing.B, set *rules.Set, events []schemas.Event) float64 {
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
	return float64(fired) / float64(b.N)
}
