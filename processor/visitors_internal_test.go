package processor

import (
	"hash/maphash"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestVisitorIndexKeepsCollidingIDsApart(t *testing.T) {
	x := newVisitorIndex()
	a, b := &visitor{id: "a"}, &visitor{id: "b"}
	x.add(a)
	// Make b's hash collide with a's, as two ids with one 64-bit hash would.
	x.byHash[maphash.String(x.seed, "b")] = a
	x.add(b)
	assert.Same(t, b, x.get("b"))
	assert.Same(t, a, x.get("a"))
	assert.Nil(t, x.get("c"))
	assert.Len(t, x.collided, 1)
	x.remove(b)
	assert.Nil(t, x.get("b"))
	assert.Same(t, a, x.get("a"))
	x.remove(a)
	assert.Nil(t, x.get("a"))
}
