package processor

// wakeHeap is a 4-ary min-heap of visitors ordered by their wake instant.
// Every live visitor is in it exactly once (its wake is its next timer
// instant or the expiry of its state), and each visitor knows its index, so
// moving a visitor's wake is O(log n) with no stale entries and no scan —
// cheap with a million pending timers.
//
// Each entry carries its key inline, so that sifting reads one cache line
// per level instead of one visitor per comparison, and a key may lag behind
// its visitor's wake: an event that only moves a wake later (the common
// case: a heartbeat pushes the expiry on) leaves the heap alone, and the
// entry is moved when its stale key comes to the top (Engine.Advance). A key
// is never later than its visitor's wake, so the top entry, once its key is
// current, is the earliest wake of all.
type wakeHeap []wakeEntry

type wakeEntry struct {
	at int64 // ≤ v.wake
	v  *visitor
}

const heapArity = 4

func (h wakeHeap) less(i, j int) bool {
	a, b := &h[i], &h[j]
	if a.at != b.at {
		return a.at < b.at
	}
	// Ties broken by id so that the order of equal instants, and so the
	// order of the output, does not depend on insertion history.
	if a.v.id != b.v.id {
		return a.v.id < b.v.id
	}
	return a.v.widget.rules.ID < b.v.widget.rules.ID
}

func (h wakeHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].v.heapIdx = int32(i)
	h[j].v.heapIdx = int32(j)
}

func (h *wakeHeap) push(v *visitor) {
	v.heapIdx = int32(len(*h))
	*h = append(*h, wakeEntry{at: v.wake, v: v})
	h.up(len(*h) - 1)
}

func (h *wakeHeap) remove(i int) {
	last := len(*h) - 1
	if i != last {
		h.swap(i, last)
	}
	(*h)[last].v.heapIdx = -1
	(*h)[last] = wakeEntry{}
	*h = (*h)[:last]
	if i != last {
		h.fix(i)
	}
}

// lower moves entry i to at, which is no later than its key.
func (h wakeHeap) lower(i int, at int64) {
	h[i].at = at
	h.up(i)
}

// refresh brings entry i's key up to date with its visitor's wake.
func (h wakeHeap) refresh(i int) {
	h[i].at = h[i].v.wake
	h.fix(i)
}

func (h wakeHeap) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}

func (h wakeHeap) up(j int) {
	for j > 0 {
		i := (j - 1) / heapArity
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		j = i
	}
}

func (h wakeHeap) down(i0 int) bool {
	i, n := i0, len(h)
	for {
		first := heapArity*i + 1
		if first >= n || first < 0 {
			break
		}
		j := first
		for c := first + 1; c < first+heapArity && c < n; c++ {
			if h.less(c, j) {
				j = c
			}
		}
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		i = j
	}
	return i > i0
}
