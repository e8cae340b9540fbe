package gateway

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSlowStreamIsDroppedNotWaitedFor(t *testing.T) {
	h := newHub()
	k := key{"acme", "v1"}
	slow, fast := h.add(k, 1), h.add(k, 4)

	assert.Equal(t, 0, h.send(k, frame{seq: 1}))
	assert.Equal(t, 1, h.send(k, frame{seq: 2}), "the slow stream's buffer is full")

	select {
	case <-slow.dropped:
	default:
		t.Fatal("slow stream not dropped")
	}
	assert.Len(t, fast.ch, 2, "the fast stream got both")
	assert.Equal(t, 0, h.send(k, frame{seq: 3}), "a dropped stream is not dropped twice")
	h.remove(k, slow)
	h.remove(k, fast)
	assert.False(t, h.has(k))
}

func TestKeyOfSubject(t *testing.T) {
	tests := []struct {
		subject string
		want    key
		ok      bool
	}{
		{"beckon.invitations.acme.v1", key{"acme", "v1"}, true},
		{"beckon.invitations.acme", key{}, false},
		{"beckon.invitations.acme.v1.x", key{}, false},
		{"beckon.events.0.acme.v1", key{}, false},
	}
	for _, tt := range tests {
		got, ok := keyOf(tt.subject)
		assert.Equal(t, tt.ok, ok, tt.subject)
		assert.Equal(t, tt.want, got, tt.subject)
	}
}

// BenchmarkFanOut measures one gateway delivering invitations to one
// visitor among many connected: the per-invitation cost must not grow with
// the number of connections.
func BenchmarkFanOut(b *testing.B) {
	for _, n := range []int{100, 10_000, 100_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			h := newHub()
			keys := make([]key, n)
			clients := make([]*client, n)
			for i := range keys {
				keys[i] = key{"acme", "v" + strconv.Itoa(i)}
				clients[i] = h.add(keys[i], 16)
			}
			f := frame{seq: 1, data: []byte("id: 1\nevent: invitation\ndata: {}\n\n")}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				j := i % n
				if !h.has(keys[j]) {
					b.Fatal("missing client")
				}
				h.send(keys[j], f)
				<-clients[j].ch
			}
		})
	}
}
