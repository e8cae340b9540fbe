package rules

import (
	"regexp"
	"strings"
)

// Set is a compiled, validated rules file: what the engine evaluates.
type Set struct {
	widgets map[string]*Widget
	order   []*Widget
}

// Widget returns the compiled widget with that id, or nil.
func (s *Set) Widget(id string) *Widget { return s.widgets[id] }

// Widgets returns the widgets in file order.
func (s *Set) Widgets() []*Widget { return s.order }

// Widget is a widget's settings, in milliseconds, and its rules in priority
// order.
type Widget struct {
	ID              string
	SessionTimeout  int64 // ms
	PresenceTimeout int64 // ms
	Cooldown        int64 // ms
	AllowedOrigins  []string
	Rules           []*Rule // every rule, enabled or not, in priority order
}

// Rule is a compiled rule.
type Rule struct {
	ID          string
	Name        string
	Index       int // position in the widget: its priority and its bit in fired sets
	Enabled     bool
	MatchAny    bool
	OncePerPage bool
	Invitation  InvitationSpec
	Conditions  []Condition
	// Onsets are the instants, relative to session or page start, at which a
	// time condition turns true by time passing alone (SPEC §4).
	Onsets []Onset
}

// Onset is one timer instant of a rule: Base + Offset ms.
type Onset struct {
	Base   Variable // TimeOnSite (from session start) or TimeOnPage (from page start)
	Offset int64    // ms
}

// Variable is a variable of SPEC §3.
type Variable uint8

// The variables of SPEC §3.
const (
	CurrentURL Variable = iota + 1
	ReferralURL
	PageTitle
	EventName
	TimeOnSite
	TimeOnPage
	PagesViewed
)

var variableNames = map[string]Variable{
	"current_url": CurrentURL, "referral_url": ReferralURL, "page_title": PageTitle,
	"event_name": EventName, "time_on_site": TimeOnSite, "time_on_page": TimeOnPage,
	"pages_viewed": PagesViewed,
}

// IsString reports whether the variable is a string: its conditions use
// the string operators.
func (v Variable) IsString() bool { return v <= EventName }
func (v Variable) isURL() bool    { return v == CurrentURL || v == ReferralURL }

// Operator is an operator of SPEC §3.
type Operator uint8

// The operators of SPEC §3.
const (
	Equals Operator = iota + 1
	NotEquals
	Contains
	NotContains
	StartsWith
	EndsWith
	Matches
	Eq
	Neq
	Gt
	Gte
	Lt
	Lte
)

var operatorNames = map[string]Operator{
	"equals": Equals, "not_equals": NotEquals, "contains": Contains, "not_contains": NotContains,
	"starts_with": StartsWith, "ends_with": EndsWith, "matches": Matches,
	"eq": Eq, "neq": Neq, "gt": Gt, "gte": Gte, "lt": Lt, "lte": Lte,
}

func (o Operator) isString() bool { return o <= Matches }

// Condition is a compiled condition.
type Condition struct {
	Variable Variable
	Operator Operator
	needle   string         // lower-cased value, for the string operators
	noScheme bool           // compare a URL without its scheme
	re       *regexp.Regexp // for matches
	num      int64          // thousandths: ms for times, pages*1000 for pages_viewed
}

// Vars are the variables of a visitor at an evaluation instant. Numbers are
// in thousandths so that every comparison is exact integer arithmetic:
// milliseconds for the times, pages×1000 for pages_viewed.
type Vars struct {
	CurrentURL  string
	ReferralURL string
	PageTitle   string
	EventName   string
	TimeOnSite  int64 // ms
	TimeOnPage  int64 // ms
	PagesViewed int64 // pages×1000
}

// Holds reports whether the rule holds for vars (SPEC §3: all or any of its
// conditions are true). Conditions are pure, so they are tried cheapest
// first — numbers, then strings, regular expressions last — and the first
// that decides the rule ends it: the result is that of any order.
func (r *Rule) Holds(v *Vars) bool {
	for cost := costNumber; cost <= costRegexp; cost++ {
		for i := range r.Conditions {
			c := &r.Conditions[i]
			if c.cost() != cost {
				continue
			}
			if c.True(v) == r.MatchAny {
				return r.MatchAny
			}
		}
	}
	return !r.MatchAny
}

// Evaluation costs of a condition, cheapest first.
const (
	costNumber = iota
	costString
	costRegexp
)

func (c *Condition) cost() int {
	switch {
	case !c.Variable.IsString():
		return costNumber
	case c.Operator == Matches:
		return costRegexp
	}
	return costString
}

// True evaluates the condition for vars.
func (c *Condition) True(v *Vars) bool {
	if c.Variable.IsString() {
		var s string
		switch c.Variable {
		case CurrentURL:
			s = v.CurrentURL
		case ReferralURL:
			s = v.ReferralURL
		case PageTitle:
			s = v.PageTitle
		default:
			s = v.EventName
		}
		return c.matchString(s)
	}
	var n int64
	switch c.Variable {
	case TimeOnSite:
		n = v.TimeOnSite
	case TimeOnPage:
		n = v.TimeOnPage
	default:
		n = v.PagesViewed
	}
	switch c.Operator {
	case Eq:
		return n == c.num
	case Neq:
		return n != c.num
	case Gt:
		return n > c.num
	case Gte:
		return n >= c.num
	case Lt:
		return n < c.num
	default:
		return n <= c.num
	}
}

// Timed reports whether the condition is on time_on_site or time_on_page:
// the variables that change by time passing alone.
func (c *Condition) Timed() bool { return c.Variable == TimeOnSite || c.Variable == TimeOnPage }

// Earliest is, for a condition on time_on_site or time_on_page whose
// variable is n ms now, the least value n' ≥ n at which the condition holds,
// and false when it holds at none: time only grows. n' > n is always the
// condition's onset (SPEC §4).
func (c *Condition) Earliest(n int64) (int64, bool) {
	switch c.Operator {
	case Gte:
		return max(n, c.num), true
	case Gt:
		return max(n, c.num+1), true
	case Eq:
		return c.num, n <= c.num
	case Neq:
		if n == c.num {
			return n + 1, true
		}
		return n, true
	case Lt:
		return n, n < c.num
	default: // Lte
		return n, n <= c.num
	}
}

func (c *Condition) matchString(s string) bool {
	if c.Operator == Matches {
		return c.re.MatchString(s)
	}
	if c.noScheme {
		if i := strings.Index(s, "://"); i >= 0 {
			s = s[i+3:]
		}
	}
	switch c.Operator {
	case Equals:
		return strings.EqualFold(s, c.needle)
	case NotEquals:
		return !strings.EqualFold(s, c.needle)
	case Contains:
		return containsFold(s, c.needle)
	case NotContains:
		return !containsFold(s, c.needle)
	case StartsWith:
		return hasPrefixFold(s, c.needle)
	default:
		return hasSuffixFold(s, c.needle)
	}
}
