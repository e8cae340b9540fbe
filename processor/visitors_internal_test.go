package processor

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// The index finds what a map would, through growth, shrinking and
// deletions in the middle of long probe runs — here with hashes drawn from
// a handful of values, so that ids collide and runs wrap around the table.
func TestVisitorIndexAgreesWithAMap(t *testing.T) {
	for _, hashes := range []uint64{3, 50, 1 << 40} {
		t.Run(fmt.Sprint(hashes), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(hashes, 1))
			x := newVisitorIndex()
			hashOf := map[string]uint64{}
			model := map[string]*visitor{}
			for step := range 50_000 {
				id := fmt.Sprintf("v%d", rng.IntN(400))
				h, ok := hashOf[id]
				if !ok {
					h = 1 + rng.Uint64N(hashes)
					hashOf[id] = h
				}
				if v := model[id]; v != nil && rng.IntN(2) == 0 {
					x.removeHashed(h, v)
					delete(model, id)
				} else if v == nil {
					v = &visitor{id: id}
					x.addHashed(h, v)
					model[id] = v
				}
				probe := fmt.Sprintf("v%d", rng.IntN(400))
				if ph, ok := hashOf[probe]; ok {
					require.Same(t, model[probe], x.getHashed(ph, probe), "step %d: %s", step, probe)
				}
				require.Equal(t, len(model), x.len())
			}
			n := 0
			for v := range x.all() {
				require.Same(t, model[v.id], v)
				n++
			}
			require.Equal(t, len(model), n)
			require.Less(t, len(x.slots), 8*max(len(model), minIndexSlots)+1, "the table shrinks with the visitors")
		})
	}
}

func TestVisitorIndexByID(t *testing.T) {
	x := newVisitorIndex()
	a, b := &visitor{id: "a"}, &visitor{id: "b"}
	x.add(a)
	x.add(b)
	require.Same(t, a, x.get("a"))
	require.Same(t, b, x.get("b"))
	require.Nil(t, x.get("c"))
	x.remove(a)
	require.Nil(t, x.get("a"))
	require.Same(t, b, x.get("b"))
}
