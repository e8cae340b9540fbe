package processor

import (
	"hash/maphash"
	"iter"
	"maps"
)

// visitorIndex finds a widget's visitors by id. It is keyed by a 64-bit
// hash of the id rather than by the id itself: a lookup then compares
// machine words inside the map's own memory instead of following each
// candidate key to its bytes elsewhere — with tens of thousands of live
// visitors, that was a cache miss on most events. The id is compared once,
// on the visitor found; two ids with the same hash (vanishingly rare, but
// possible) are kept apart in a small second map.
type visitorIndex struct {
	seed     maphash.Seed
	byHash   map[uint64]*visitor
	collided map[string]*visitor
}

func newVisitorIndex() visitorIndex {
	return visitorIndex{seed: maphash.MakeSeed(), byHash: make(map[uint64]*visitor)}
}

func (x *visitorIndex) get(id string) *visitor {
	if v := x.byHash[maphash.String(x.seed, id)]; v != nil && v.id == id {
		return v
	}
	if len(x.collided) > 0 {
		return x.collided[id]
	}
	return nil
}

// add indexes v, whose id is not indexed yet.
func (x *visitorIndex) add(v *visitor) {
	h := maphash.String(x.seed, v.id)
	if _, taken := x.byHash[h]; !taken {
		x.byHash[h] = v
		return
	}
	if x.collided == nil {
		x.collided = make(map[string]*visitor)
	}
	x.collided[v.id] = v
}

func (x *visitorIndex) remove(v *visitor) {
	h := maphash.String(x.seed, v.id)
	if x.byHash[h] == v {
		delete(x.byHash, h)
		return
	}
	delete(x.collided, v.id)
}

func (x *visitorIndex) len() int { return len(x.byHash) + len(x.collided) }

// all yields every visitor indexed.
func (x *visitorIndex) all() iter.Seq[*visitor] {
	return func(yield func(*visitor) bool) {
		for v := range maps.Values(x.byHash) {
			if !yield(v) {
				return
			}
		}
		for v := range maps.Values(x.collided) {
			if !yield(v) {
				return
			}
		}
	}
}
