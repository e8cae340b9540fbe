package processor_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/internal/gen"
	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/processor"
	"github.com/beckon-chat/beckon/rules"
	"github.com/beckon-chat/beckon/schemas"
)

// An engine rebuilt from OldestOpenPosition — a fresh engine given the
// partition's events from there, as the runner does after a restart or a
// takeover — goes on exactly as the engine it replaces: the same
// invitations, ids included, after the cut. The checkpoint is taken a while
// before the cut, as the runner saves it after each batch and another
// instance takes over later.
func TestRebuiltEngineGoesOnAsTheOriginal(t *testing.T) {
	set, err := rules.Load("../deploy/rules/bench.yaml")
	require.NoError(t, err)
	var all []schemas.Event
	require.NoError(t, gen.Generate(gen.Config{Seed: 42, Events: 100_000},
		func(ev *schemas.Event) error { all = append(all, *ev); return nil }))
	const partitions = 8
	parts := make([][]schemas.Event, partitions)
	for _, ev := range all {
		p := streams.Partition(ev.WidgetID, ev.VisitorID, partitions)
		parts[p] = append(parts[p], ev)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for p, events := range parts {
		for range 10 {
			cut := 1 + rng.IntN(len(events)-1)
			saved := cut - rng.IntN(min(cut, 3000))
			apply := func(e *processor.Engine, i int, out []schemas.Invitation) []schemas.Invitation {
				e.SetPosition(uint64(i + 1))
				return e.Apply(&events[i], out)
			}
			orig := processor.New(set)
			from, ok := uint64(0), false
			for i := range cut {
				if i == saved {
					from, ok = orig.OldestOpenPosition()
				}
				apply(orig, i, nil)
			}
			if saved == cut {
				from, ok = orig.OldestOpenPosition()
			}
			if !ok {
				from = uint64(saved) + 1
			}
			rebuilt := processor.New(set)
			for i := int(from) - 1; i < cut; i++ {
				apply(rebuilt, i, nil)
			}
			var want, got []schemas.Invitation
			for i := cut; i < len(events); i++ {
				want = apply(orig, i, want)
				got = apply(rebuilt, i, got)
			}
			want, got = orig.Drain(want), rebuilt.Drain(got)
			require.Equal(t, want, got, "partition %d saved %d cut %d from %d", p, saved, cut, from)
		}
	}
}
