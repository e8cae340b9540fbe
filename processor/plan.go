package processor

import (
	"cmp"
	"slices"

	"github.com/beckon-chat/beckon/rules"
)

// A plan is how one engine evaluates a widget's rules fast, with the same
// results as rules.Rule.Holds. Conditions on the page and the referral
// (current_url, page_title, referral_url) change only when a page or a
// session starts, so their results are computed then, once, into a bit set
// kept with the visitor (visitor.strBits); an evaluation instant — most are
// timer instants, a dozen a page — reads those bits and compares numbers,
// and only event_name is matched as text, cheapest conditions first.

// maxCachedConds is how many page and referral conditions a widget may
// have for their results to be kept in a visitor's bit set; past it, they
// are matched at each evaluation.
const maxCachedConds = 64

type widgetPlan struct {
	cached []*rules.Condition // bit i of visitor.strBits is cached[i]'s result
	rules  []rulePlan         // in priority order, as widget.Rules
}

type rulePlan struct {
	rule     *rules.Rule
	matchAny bool
	conds    []planCond // cheapest first
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
		p.rules = append(p.rules, rp)
	}
	return p
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
	case pc.bit >= 0:
		return 0
	case pc.c.Variable >= rules.TimeOnSite: // numbers
		return 1
	case pc.c.Operator != rules.Matches:
		return 2
	}
	return 3
}

// strBits evaluates the cached conditions for a visitor's page and referral.
func (p *widgetPlan) strBits(v *visitor) uint64 {
	vars := rules.Vars{CurrentURL: v.pageURL, ReferralURL: v.referral, PageTitle: v.pageTitle}
	var bits uint64
	for i, c := range p.cached {
		if c.True(&vars) {
			bits |= 1 << uint(i)
		}
	}
	return bits
}

// holds is rules.Rule.Holds with the visitor's cached results.
func (rp *rulePlan) holds(bits uint64, vars *rules.Vars) bool {
	for _, pc := range rp.conds {
		var ok bool
		if pc.bit >= 0 {
			ok = bits&(1<<uint(pc.bit)) != 0
		} else {
			ok = pc.c.True(vars)
		}
		if ok == rp.matchAny {
			return rp.matchAny
		}
	}
	return !rp.matchAny
}
