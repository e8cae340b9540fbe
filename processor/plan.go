package processor

import (
	"cmp"
	"slices"

	"github.com/beckon-chat/beckon/rules"
)

// A plan is how one engine evaluates a widget's rules fast, with the same
// results as rules.Rule.Holds: conditions cheapest first (numbers before
// text, regular expressions last), and the results of conditions on the
// page and the referral (current_url, page_title, referral_url) kept with
// the visitor until a page or a session starts, since only then can they
// change. A visitor has a dozen evaluation instants a page, most of them
// timer instants; each condition on its page is matched at most once, when
// an evaluation first needs it.

// maxCachedConds is how many page and referral conditions a widget may
// have for their results to be kept in a visitor's bit set; past it, they
// are matched at each evaluation.
const maxCachedConds = 64

type widgetPlan struct {
	cached []*rules.Condition // bit i of visitor.strKnown/strBits is cached[i]'s
	rules  []rulePlan         // in priority order, as widget.Rules
}

type rulePlan struct {
	rule     *rules.Rule
	matchAny bool
	conds    []planCond // cheapest first
	// needsEvent: the rule cannot hold without a custom event's name — at
	// a timer instant, a page view or a heartbeat — so it is not checked
	// there. Found once, from the conditions on event_name alone.
	needsEvent bool
}

type planCond struct {
	c   *rules.Condition
	bit int8 // the condition's bit in visitor.strBits, or -1
}

func newWidgetPlan(w *rules.Widget) *widgetPlan {
	p := &widgetPlan{}
	n := 0
	for _, r := range w.Rules {
		for i := range r.Conditions {
			if cacheable(&r.Conditions[i]) {
				n++
			}
		}
	}
	for _, r := range w.Rules {
		rp := rulePlan{rule: r, matchAny: r.MatchAny}
		for i := range r.Conditions {
			c := &r.Conditions[i]
			pc := planCond{c: c, bit: -1}
			if n <= maxCachedConds && cacheable(c) {
				pc.bit = int8(len(p.cached))
				p.cached = append(p.cached, c)
			}
			rp.conds = append(rp.conds, pc)
		}
		slices.SortStableFunc(rp.conds, func(a, b planCond) int { return cmp.Compare(a.cost(), b.cost()) })
		rp.needsEvent = needsEvent(r)
		p.rules = append(p.rules, rp)
	}
	return p
}

// needsEvent reports whether r is false whenever event_name is "": an
// event_name condition is true or false whatever the other variables are,
// so one evaluation with every variable zero decides it.
func needsEvent(r *rules.Rule) bool {
	var none rules.Vars
	nameConds, falseOnNone := 0, 0
	for i := range r.Conditions {
		c := &r.Conditions[i]
		if c.Variable != rules.EventName {
			continue
		}
		nameConds++
		if !c.True(&none) {
			falseOnNone++
		}
	}
	if r.MatchAny {
		return nameConds == len(r.Conditions) && falseOnNone == nameConds
	}
	return falseOnNone > 0
}

func cacheable(c *rules.Condition) bool {
	switch c.Variable {
	case rules.CurrentURL, rules.PageTitle, rules.ReferralURL:
		return true
	}
	return false
}

func (pc planCond) cost() int {
	switch {
	case pc.c.Variable >= rules.TimeOnSite: // numbers
		return 0
	case pc.c.Operator != rules.Matches:
		return 1
	}
	return 2
}

// holds is rules.Rule.Holds, with v's cached results.
func (rp *rulePlan) holds(v *visitor, vars *rules.Vars) bool {
	for _, pc := range rp.conds {
		var ok bool
		if pc.bit >= 0 {
			bit := uint64(1) << uint(pc.bit)
			if v.strKnown&bit == 0 {
				v.strKnown |= bit
				v.strBits &^= bit
				if pc.c.True(vars) {
					v.strBits |= bit
				}
			}
			ok = v.strBits&bit != 0
		} else {
			ok = pc.c.True(vars)
		}
		if ok == rp.matchAny {
			return rp.matchAny
		}
	}
	return !rp.matchAny
}
