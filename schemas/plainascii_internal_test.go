package schemas

import (
	"math/rand/v2"
	"testing"
)

func TestPlainASCIIAgreesWithBytewiseCheck(t *testing.T) {
	naive := func(b []byte) bool {
		for _, c := range b {
			if c < 0x20 || c >= 0x80 || c == '\\' {
				return false
			}
		}
		return true
	}
	r := rand.New(rand.NewPCG(1, 2))
	special := []byte{0, 0x1f, 0x20, 0x7f, 0x80, 0xff, '\\', '"', 'a', 0x5b, 0x5d}
	for i := 0; i < 200000; i++ {
		b := make([]byte, r.IntN(40))
		for j := range b {
			if r.IntN(4) == 0 {
				b[j] = special[r.IntN(len(special))]
			} else {
				b[j] = byte(0x20 + r.IntN(0x5f))
			}
		}
		if got, want := plainASCII(b), naive(b); got != want {
			t.Fatalf("plainASCII(%q) = %v, want %v", b, got, want)
		}
	}
}
