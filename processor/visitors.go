package processor

import (
	"hash/maphash"
	"iter"
)

// visitorIndex finds a widget's visitors by id. It is an open-addressing
// hash table of (hash of the id, visitor), probed linearly: a lookup reads
// one slot, usually in one cache line, and then the id kept inside the
// visitor itself (visitor.idBuf), next to the state it is about to use. A
// map from id strings cost a miss on its control word, one on its slot and
// one on the id's bytes elsewhere, on most events once tens of thousands
// of visitors are live. Two ids with the same 64-bit hash (vanishingly
// rare, but possible) are two entries, told apart by the id.
type visitorIndex struct {
	seed  maphash.Seed
	slots []indexSlot // a power of two of them; h == 0 marks an empty one
	n     int
}

type indexSlot struct {
	h uint64
	v *visitor
}

const minIndexSlots = 16

func newVisitorIndex() visitorIndex {
	return visitorIndex{seed: maphash.MakeSeed(), slots: make([]indexSlot, minIndexSlots)}
}

func (x *visitorIndex) hash(id string) uint64 {
	return max(maphash.String(x.seed, id), 1)
}

func (x *visitorIndex) get(id string) *visitor { return x.getHashed(x.hash(id), id) }

func (x *visitorIndex) getHashed(h uint64, id string) *visitor {
	mask := len(x.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		s := &x.slots[i]
		if s.h == h && s.v.id == id {
			return s.v
		}
		if s.h == 0 {
			return nil
		}
	}
}

// add indexes v, whose id is not indexed yet.
func (x *visitorIndex) add(v *visitor) { x.addHashed(x.hash(v.id), v) }

func (x *visitorIndex) addHashed(h uint64, v *visitor) {
	if 4*(x.n+1) > 3*len(x.slots) {
		x.resize(2 * len(x.slots))
	}
	x.place(h, v)
	x.n++
}

func (x *visitorIndex) place(h uint64, v *visitor) {
	mask := len(x.slots) - 1
	i := int(h) & mask
	for x.slots[i].h != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = indexSlot{h: h, v: v}
}

func (x *visitorIndex) remove(v *visitor) { x.removeHashed(x.hash(v.id), v) }

// removeHashed takes v out and moves back the entries after it that would
// no longer be found past the hole (backward-shift deletion: no tombstones).
func (x *visitorIndex) removeHashed(h uint64, v *visitor) {
	mask := len(x.slots) - 1
	i := int(h) & mask
	for x.slots[i].v != v {
		if x.slots[i].h == 0 {
			return // not indexed
		}
		i = (i + 1) & mask
	}
	for j := i; ; {
		j = (j + 1) & mask
		s := x.slots[j]
		if s.h == 0 {
			break
		}
		// The entry at j stays unless the hole at i lies on its probe path,
		// from its home slot k up to j.
		k := int(s.h) & mask
		if (i-k)&mask < (j-k)&mask {
			x.slots[i] = s
			i = j
		}
	}
	x.slots[i] = indexSlot{}
	x.n--
	if len(x.slots) > minIndexSlots && 8*x.n < len(x.slots) {
		x.resize(len(x.slots) / 2) // memory follows the live visitors
	}
}

func (x *visitorIndex) resize(size int) {
	old := x.slots
	x.slots = make([]indexSlot, size)
	for _, s := range old {
		if s.h != 0 {
			x.place(s.h, s.v)
		}
	}
}

func (x *visitorIndex) len() int { return x.n }

// all yields every visitor indexed.
func (x *visitorIndex) all() iter.Seq[*visitor] {
	return func(yield func(*visitor) bool) {
		for _, s := range x.slots {
			if s.h != 0 && !yield(s.v) {
				return
			}
		}
	}
}
