package schemas

import (
	"math/rand/v2"
	"testing"
)

func TestStringStopAgreesWithBytewiseScan(t *testing.T) {
	naive := func(b []byte, ascii bool) int {
		for i, c := range b {
			if c == '"' || c == '\\' || c < 0x20 || (ascii && c >= 0x80) {
				return i
			}
		}
		return len(b)
	}
	r := rand.New(rand.NewPCG(1, 2))
	special := []byte{0, 0x1f, 0x20, 0x21, 0x7f, 0x80, 0xff, '\\', '"', 'a', 0x5b, 0x5d, 0x23, 0x5d}
	for i := 0; i < 300000; i++ {
		b := make([]byte, r.IntN(40))
		for j := range b {
			if r.IntN(8) == 0 {
				b[j] = special[r.IntN(len(special))]
			} else {
				b[j] = byte(0x20 + r.IntN(0x60))
			}
		}
		ascii := r.IntN(2) == 0
		if got, want := stringStop(b, ascii), naive(b, ascii); got != want {
			t.Fatalf("stringStop(%q, %v) = %d, want %d", b, ascii, got, want)
		}
	}
}
