package rules

import (
	"strings"
	"unicode/utf8"
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
		return strings.Contains(strings.ToLower(s), needle)
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
			return strings.Contains(strings.ToLower(s), needle)
		}
		if i <= last && lowerASCII(c) == first && equalLowerASCII(s[i:i+len(needle)], needle) {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, needle string) bool {
	if !isASCII(s) || !isASCII(needle) {
		return strings.HasPrefix(strings.ToLower(s), needle)
	}
	return len(s) >= len(needle) && equalLowerASCII(s[:len(needle)], needle)
}

func hasSuffixFold(s, needle string) bool {
	if !isASCII(s) || !isASCII(needle) {
		return strings.HasSuffix(strings.ToLower(s), needle)
	}
	return len(s) >= len(needle) && equalLowerASCII(s[len(s)-len(needle):], needle)
}
