package processor

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/beckon-chat/beckon/rules"
	"github.com/stretchr/testify/require"
)

// TestTimerQueueOrder drives the timer queue with random wakes — earlier
// and later moves, instants in the past, in later laps of the wheel, equal
// instants — and checks every visitor comes out at its wake, in order of
// (wake, id), against a plain model.
func TestTimerQueueOrder(t *testing.T) {
	widget := &widgetState{rules: &rules.Widget{ID: "w"}}
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 1))
			var q timerQueue
			vs := make([]*visitor, 200)
			for i := range vs {
				vs[i] = &visitor{id: fmt.Sprintf("v%03d", i), widget: widget}
			}
			queued := map[*visitor]bool{}
			now := int64(1_700_000_000_000)
			wakeFrom := func(base int64) int64 {
				switch rng.IntN(6) {
				case 0:
					return base + rng.Int64N(3*60*60*1000) // beyond a lap of the wheel
				case 1:
					return base - rng.Int64N(2000) // already due
				case 2:
					return base + rng.Int64N(4)*slotWidth // on slot boundaries
				default:
					return base + rng.Int64N(60_000)
				}
			}
			for range 20_000 {
				v := vs[rng.IntN(len(vs))]
				switch rng.IntN(3) {
				case 0, 1: // an event: a new wake, earlier or later
					v.wake = wakeFrom(now)
					q.schedule(v)
					queued[v] = true
				case 2: // time passes
					now += rng.Int64N(5_000)
					var want []*visitor
					for w := range queued {
						if w.wake <= now {
							want = append(want, w)
						}
					}
					slices.SortFunc(want, func(a, b *visitor) int {
						return cmp.Or(cmp.Compare(a.wake, b.wake), cmp.Compare(a.id, b.id))
					})
					var got []*visitor
					for w := q.due(now); w != nil; w = q.due(now) {
						got = append(got, w)
						delete(queued, w)
						if rng.IntN(2) == 0 { // handled: a timer instant, then a later wake
							w.wake = wakeFrom(now) + 1
							if w.wake <= now {
								w.wake = now + 1
							}
							q.schedule(w)
							queued[w] = true
						}
					}
					require.Equal(t, ids(want), ids(got))
					require.Equal(t, len(queued), q.len())
				}
			}
			var left []*visitor
			for w := q.due(math.MaxInt64); w != nil; w = q.due(math.MaxInt64) {
				left = append(left, w)
			}
			require.Len(t, left, len(queued))
			require.True(t, slices.IsSortedFunc(left, func(a, b *visitor) int { return cmp.Compare(a.wake, b.wake) }))
			require.Zero(t, q.len())
		})
	}
}

func ids(vs []*visitor) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = fmt.Sprintf("%s@%d", v.id, v.wake)
	}
	return out
}
