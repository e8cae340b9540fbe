package processor

import "slices"

// timerQueue holds every live visitor by its wake instant — its next timer
// instant or the expiry of its state — and gives them back in order of
// (instant, visitor id, widget id), so that the output does not depend on
// the order in which states were made. It stays cheap with a million
// pending timers.
//
// It is a timing wheel in front of a small heap. Instants before nearEnd
// are in the near heap; later ones are in the wheel: a ring of slots a
// quarter second wide, each an unordered list, a visitor knowing its place
// in its slot so that moving it is O(1). When the engine's time reaches
// nearEnd, the next slot is opened into the near heap. The heap so holds a
// quarter second of instants and stays in the cache, where a heap of every
// visitor cost a cache miss per level on each of its sifts. A slot holds
// the instants of every lap of the ring (about 70 minutes): those of later
// laps stay in it when it is opened.
//
// A visitor's key may lag behind its wake: an event that only moves a wake
// later (the common case: a heartbeat pushes the expiry on) leaves the
// queue alone, and the visitor moves on when its stale key comes up. An
// earlier wake moves it at once. Near heap entries are not removed when
// their visitor moves: an entry counts only while its visitor is in the
// near heap with that key (visitor.qpos, visitor.qkey), and the state of a
// visitor that expires is not reused for another until the near heap has
// been emptied (epoch), so that an entry left behind never points at
// another visitor — whose id would change the order of the heap.
type timerQueue struct {
	near    nearHeap
	nearEnd int64         // every key in the wheel is at or after it; a multiple of slotWidth
	slots   [][]wakeEntry // the wheel: instant at is in slots[slotOf(at)]
	pool    [][]wakeEntry // emptied lists, for slots to fill (see grow)
	n       int           // visitors queued
	slotted int           // ... of which in the wheel
	opened  uint64        // times the near heap was emptied and refilled (see epoch)
}

const (
	slotShift = 8 // a slot is 256 ms wide
	slotWidth = int64(1) << slotShift
	wheelBits = 14 // 16384 slots: a lap of the ring is about 70 minutes
	wheelMask = 1<<wheelBits - 1
)

// visitor.qpos: where a visitor is queued.
const (
	notQueued = 0
	inNear    = -1
	// k > 0: in the wheel, at index k-1 of its slot
)

type wakeEntry struct {
	at int64 // the visitor's key: ≤ its wake
	v  *visitor
}

func slotOf(at int64) int { return int(at>>slotShift) & wheelMask }

func (q *timerQueue) len() int { return q.n }

// epoch changes whenever the near heap has been emptied since: then no
// entry left in it by a visitor that moved on points at any state that
// expired before.
func (q *timerQueue) epoch() uint64 { return q.opened }

// schedule queues v at its wake, or moves it there when the wake is before
// its key.
func (q *timerQueue) schedule(v *visitor) {
	switch {
	case v.qpos == notQueued:
		if q.n == 0 {
			q.reset(v.wake)
		}
		q.n++
	case v.wake >= v.qkey:
		return // a later wake: moved on when the key comes up
	case v.qpos > 0:
		q.unslot(v)
	}
	q.add(v, v.wake)
}

// reset starts an empty queue's wheel at instant at, whatever the time was
// when it last emptied.
func (q *timerQueue) reset(at int64) {
	q.opened++
	clear(q.near) // entries of visitors that have moved on
	q.near = q.near[:0]
	q.nearEnd = at &^ (slotWidth - 1)
}

// add places v, which is counted in q.n and not in the wheel, at key at.
func (q *timerQueue) add(v *visitor, at int64) {
	v.qkey = at
	if at < q.nearEnd {
		v.qpos = inNear
		q.near.push(wakeEntry{at: at, v: v})
		return
	}
	if q.slots == nil {
		q.slots = make([][]wakeEntry, 1<<wheelBits)
	}
	s := &q.slots[slotOf(at)]
	if len(*s) == cap(*s) {
		q.grow(s)
	}
	*s = append(*s, wakeEntry{at: at, v: v})
	v.qpos = int32(len(*s))
	q.slotted++
}

// unslot takes v out of its wheel slot.
func (q *timerQueue) unslot(v *visitor) {
	s := &q.slots[slotOf(v.qkey)]
	i, last := int(v.qpos)-1, len(*s)-1
	if i != last {
		(*s)[i] = (*s)[last]
		(*s)[i].v.qpos = int32(i + 1)
	}
	(*s)[last] = wakeEntry{}
	*s = (*s)[:last]
	q.slotted--
	v.qpos = notQueued
}

// due takes out and returns the first visitor whose wake is at or before
// limit, or nil when there is none.
func (q *timerQueue) due(limit int64) *visitor {
	for {
		for len(q.near) > 0 {
			top := q.near[0]
			v := top.v
			if v.qpos != inNear || v.qkey != top.at {
				q.near.pop() // the visitor has moved since
				continue
			}
			if top.at > limit {
				return nil
			}
			q.near.pop()
			if top.at < v.wake {
				q.add(v, v.wake) // a stale key
				continue
			}
			v.qpos = notQueued
			q.n--
			return v
		}
		if q.slotted == 0 || q.nearEnd > limit {
			return nil
		}
		q.open()
	}
}

// open moves the wheel's next slot into the near heap, each visitor at its
// current wake, which may belong to a later slot or a later lap.
func (q *timerQueue) open() {
	q.opened++ // the near heap is empty
	i := slotOf(q.nearEnd)
	q.nearEnd += slotWidth
	s, kept := q.slots[i], 0
	for _, en := range s {
		v := en.v
		if at := v.wake; at >= q.nearEnd && slotOf(at) == i {
			v.qkey, v.qpos = at, int32(kept+1) // a later lap: stays
			s[kept] = wakeEntry{at: at, v: v}
			kept++
			continue
		}
		q.slotted--
		q.add(v, v.wake)
	}
	clear(s[kept:])
	q.slots[i] = s[:kept]
	if kept == 0 && cap(s) > 0 {
		q.slots[i] = nil
		q.release(s)
	}
}

// A slot is busy while its instants are near and nearly empty for the rest
// of the lap, so slots lend their lists to each other: an emptied slot's
// list goes to a pool that the next slot to fill takes from. Otherwise every
// slot would keep, for the whole lap, the list it needed at its busiest.
const maxPooled = 4096

func (q *timerQueue) grow(s *[]wakeEntry) {
	if len(*s) == 0 && len(q.pool) > 0 {
		n := len(q.pool) - 1
		*s, q.pool[n] = q.pool[n], nil
		q.pool = q.pool[:n]
		return
	}
	old := *s
	*s = slices.Grow(old, max(len(old), 8))
	if cap(old) > 0 {
		q.release(old)
	}
}

func (q *timerQueue) release(s []wakeEntry) {
	if len(q.pool) < maxPooled {
		clear(s[:cap(s)])
		q.pool = append(q.pool, s[:0])
	}
}

// nearHeap is a 4-ary min-heap of wake entries, ordered by instant and
// then by visitor and widget id.
type nearHeap []wakeEntry

const heapArity = 4

func (h nearHeap) less(i, j int) bool {
	a, b := &h[i], &h[j]
	if a.at != b.at {
		return a.at < b.at
	}
	if a.v.id != b.v.id {
		return a.v.id < b.v.id
	}
	return a.v.widget.rules.ID < b.v.widget.rules.ID
}

func (h *nearHeap) push(en wakeEntry) {
	*h = append(*h, en)
	s := *h
	for j := len(s) - 1; j > 0; {
		i := (j - 1) / heapArity
		if !s.less(j, i) {
			break
		}
		s[i], s[j] = s[j], s[i]
		j = i
	}
}

func (h *nearHeap) pop() {
	s := *h
	last := len(s) - 1
	s[0] = s[last]
	s[last] = wakeEntry{}
	s = s[:last]
	*h = s
	for i, n := 0, len(s); ; {
		first := heapArity*i + 1
		if first >= n {
			return
		}
		j := first
		for c := first + 1; c < first+heapArity && c < n; c++ {
			if s.less(c, j) {
				j = c
			}
		}
		if !s.less(j, i) {
			return
		}
		s[i], s[j] = s[j], s[i]
		i = j
	}
}
