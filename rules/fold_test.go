package rules

import (
	"strings"
	"testing"
)

// The allocation-free folds give what lower-casing the whole string gives,
// for ASCII, other scripts, case changes that change the byte length
// (the Kelvin sign) and invalid UTF-8.
func TestFoldsMatchToLower(t *testing.T) {
	hay := []string{"", "Pricing — Shop", "https://Shop.example/Pricing", "\u212Aelvin", "ÉCOLE été", "bad\xffbyte", "ÀB\xc3", strings.Repeat("Ω", 200) + "end"}
	needles := []string{"", "pricing", "— shop", "kelvin", "école", "\ufffdbyte", "end", "é", "ω"}
	for _, s := range hay {
		for _, n := range needles {
			n = strings.ToLower(n)
			ls := strings.ToLower(s)
			if got, want := containsFold(s, n), strings.Contains(ls, n); got != want {
				t.Errorf("containsFold(%q, %q) = %v, want %v", s, n, got, want)
			}
			if got, want := hasPrefixFold(s, n), strings.HasPrefix(ls, n); got != want {
				t.Errorf("hasPrefixFold(%q, %q) = %v, want %v", s, n, got, want)
			}
			if got, want := hasSuffixFold(s, n), strings.HasSuffix(ls, n); got != want {
				t.Errorf("hasSuffixFold(%q, %q) = %v, want %v", s, n, got, want)
			}
		}
	}
}

func TestFoldsDoNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		hasPrefixFold("Pricing — Shop", "pricing")
		hasSuffixFold("Pricing — Shop", "shop")
		containsFold("Pricing — Shop", "— sh")
	})
	if allocs != 0 {
		t.Errorf("%v allocations", allocs)
	}
}
