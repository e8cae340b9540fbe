package gen

// item is something due at a time: a session's next action or a visitor's
// return.
type item struct {
	at   int64  // ms
	seq  uint64 // push order, so that equal times come out the same on every run
	kind uint8
	idx  int32
}

// queue is a binary min-heap of items by (at, seq), written out rather than
// through container/heap to keep the interface calls off the hot path.
type queue struct {
	items []item
	seq   uint64
}

func (q *queue) len() int   { return len(q.items) }
func (q *queue) top() *item { return &q.items[0] }

func less(a, b *item) bool { return a.at < b.at || a.at == b.at && a.seq < b.seq }

func (q *queue) push(it item) {
	q.seq++
	it.seq = q.seq
	q.items = append(q.items, it)
	i := len(q.items) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !less(&q.items[i], &q.items[p]) {
			break
		}
		q.items[i], q.items[p] = q.items[p], q.items[i]
		i = p
	}
}

func (q *queue) pop() item {
	top := q.items[0]
	n := len(q.items) - 1
	q.items[0] = q.items[n]
	q.items = q.items[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && less(&q.items[r], &q.items[l]) {
			m = r
		}
		if !less(&q.items[m], &q.items[i]) {
			break
		}
		q.items[i], q.items[m] = q.items[m], q.items[i]
		i = m
	}
	return top
}
