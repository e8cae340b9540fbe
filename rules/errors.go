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
	switch {
	case p.File != "" && p.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", p.File, p.Line)
	case p.File != "":
		fmt.Fprintf(&b, "%s: ", p.File)
	case p.Line > 0:
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	var where []string
	if p.Widget != "" {
		where = append(where, fmt.Sprintf("widget %q", p.Widget))
	}
	if p.Rule != "" {
		where = append(where, fmt.Sprintf("rule %q", p.Rule))
	}
	if p.Condition > 0 {
		where = append(where, fmt.Sprintf("condition %d", p.Condition))
	}
	if len(where) > 0 {
		b.WriteString(strings.Join(where, " "))
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
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
