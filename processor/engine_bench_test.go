package processor_test

import (
	"testing"

	"github.com/beckon-chat/beckon/internal/benchkit"
	"github.com/beckon-chat/beckon/rules"
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
	events, err := benchkit.Traffic(200_000)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("bench.yaml", func(b *testing.B) {
		b.ReportMetric(benchkit.EngineLoop(b, set, events), "invitations/event")
	})
}
