package processor

// wakeHeap is a binary min-heap of visitors ordered by their wake instant.
// Every live visitor is in it exactly once (its wake is its next timer
// instant or the expiry of its state), and each visitor knows its index, so
// moving a visitor's wake is O(log n) with no stale entries and no scan —
// cheap with a million pending timers.
type wakeHeap []*visitor

func (h wakeHeap) less(i, j int) bool {
	if h[i].wake != h[j].wake {
		return h[i].wake < h[j].wake
	}
	// Ties broken by id so that the order of equal instants, and so the
	// order of the output, does not depend on insertion history.
	if h[i].id != h[j].id {
		return h[i].id < h[j].id
	}
	return h[i].widget.rules.ID < h[j].widget.rules.ID
}

func (h wakeHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx = int32(i)
	h[j].heapIdx = int32(j)
}

func (h *wakeHeap) push(v *visitor) {
	v.heapIdx = int32(len(*h))
	*h = append(*h, v)
	h.up(len(*h) - 1)
}

func (h *wakeHeap) remove(i int) {
	last := len(*h) - 1
	if i != last {
		h.swap(i, last)
	}
	(*h)[last].heapIdx = -1
	(*h)[last] = nil
	*h = (*h)[:last]
	if i != last {
		h.fix(i)
	}
}

func (h wakeHeap) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}

func (h wakeHeap) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
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
		j := 2*i + 1
		if j >= n || j < 0 {
			break
		}
		if r := j + 1; r < n && h.less(r, j) {
			j = r
		}
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		i = j
	}
	return i > i0
}
