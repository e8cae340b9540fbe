package rules

import (
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// Case-insensitive matching without allocation. Needles are lower-cased
// when a rule is compiled; haystacks are folded byte by byte when they are
// ASCII (URLs nearly always are) and lower-cased whole otherwise.

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalLowerASCII reports whether ASCII s equals lower-case needle, folding s.
func equalLowerASCII(s, needle string) bool {
	if len(s) != len(needle) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if lowerASCII(s[i]) != needle[i] {
			return false
		}
	}
	return true
}

func containsFold(s, needle string) bool {
	if !isASCII(needle) {
		return strings.Contains(lowered(make([]byte, 0, 256), s), needle)
	}
	if len(needle) == 0 {
		return true
	}
	// One pass that folds and checks for ASCII at once: a match found over
	// an ASCII prefix of s is a match of the lower-cased s whatever follows;
	// without one, a non-ASCII s takes the Unicode path.
	first := needle[0]
	last := len(s) - len(needle)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return strings.Contains(lowered(make([]byte, 0, 256), s), needle)
		}
		if i <= last && lowerASCII(c) == first && equalLowerASCII(s[i:i+len(needle)], needle) {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, needle string) bool {
	if !isASCII(s) || !isASCII(needle) {
		return strings.HasPrefix(lowered(make([]byte, 0, 256), s), needle)
	}
	return len(s) >= len(needle) && equalLowerASCII(s[:len(needle)], needle)
}

func hasSuffixFold(s, needle string) bool {
	if !isASCII(s) || !isASCII(needle) {
		return strings.HasSuffix(lowered(make([]byte, 0, 256), s), needle)
	}
	return len(s) >= len(needle) && equalLowerASCII(s[len(s)-len(needle):], needle)
}

// lowered is strings.ToLower(s) written into buf, without allocating when
// it fits: a page title with one non-ASCII character (an em dash) would
// otherwise cost an allocation per match. Like strings.ToLower, it lowers
// rune by rune and turns invalid UTF-8 into U+FFFD. The result shares
// buf's bytes; it must not outlive the caller.
func lowered(buf []byte, s string) string {
	b := buf[:0]
	for _, r := range s {
		b = utf8.AppendRune(b, unicode.ToLower(r))
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
