package rules

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is wrapped by every validation error of a rules file.
var ErrInvalid = errors.New("rules: invalid rules file")

// Problem is one thing wrong with a rules file, located as precisely as the
// file allows.
type Problem struct {
	File      string // path of the file, "" when loaded from bytes
	Line      int    // 1-based line, 0 when unknown
	Widget    string // widget id, "" when not about a widget
	Rule      string // rule id, "" when not about a rule
	Condition int    // 1-based condition index, 0 when not about a condition
	Msg       string
}

func (p Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		b.WriteByte(':')
	}
	if p.Line > 0 {
		fmt.Fprintf(&b, "%d:", p.Line)
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if p.Widget != "" {
		fmt.Fprintf(&b, "widget %q ", p.Widget)
	}
	if p.Rule != "" {
		fmt.Fprintf(&b, "rule %q ", p.Rule)
	}
	if p.Condition > 0 {
		fmt.Fprintf(&b, "condition %d ", p.Condition)
	}
	if b.Len() > 0 && !strings.HasSuffix(b.String(), " ") {
		b.WriteByte(' ')
	}
	s := strings.TrimSuffix(b.String(), " ")
	if s != "" {
		s += ": "
	}
	return s + p.Msg
}

// Error is a rejected rules file: every problem found, in file order.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "\n")
}

func (e *Error) Unwrap() error { return ErrInvalid }
