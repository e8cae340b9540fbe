package processor

import (
	"cmp"
	"slices"

	"github.com/beckon-chat/beckon/rules"
)

// A plan is how one engine evaluates a widget's rules fast, with the same
// results as rules.Rule.Holds. A string condition's result depends on its
// string alone, and a widget sees few distinct urls, titles, referrers and
// event names: each string's results for all the widget's string
// conditions are found once, as a bit set, when the widget first sees it
// (widgetState.intern), and a visitor keeps the bits of its page and
// referral. An evaluation then tests bits and compares integers; only
// rules with more string conditions than a bit set holds match text.

// maxStringConds is how many string conditions a widget may have for
// their results to be bits; past it, they are matched at each evaluation.
const maxStringConds = 64

type widgetPlan struct {
	strConds []*rules.Condition            // bit i of a string's bits is strConds[i]'s result
	varBits  [rules.PagesViewed + 1]uint64 // the bits of the conditions on each variable
	empty    uint64                        // the bits of ""
	rules    []rulePlan                    // in priority order, as widget.Rules
}

type rulePlan struct {
	rule     *rules.Rule
	matchAny bool
	conds    []planCond // cheapest first
	// needsEvent: the rule cannot hold without a custom event's name — at
	// a timer instant, a page view or a heartbeat — so it is not checked
	// there. Found once, from the conditions on event_name alone.
	needsEvent bool
	// Between two events only time moves: then the rule's conditions on
	// time_on_site and time_on_page (timed) change and the others (static)
	// do not. See firstHolding.
	static []planCond
	timed  []*rules.Condition
}

type planCond struct {
	c   *rules.Condition
	bit int8 // the condition's bit in the strings' bits, or -1
}

func newWidgetPlan(w *rules.Widget) *widgetPlan {
	p := &widgetPlan{}
	n := 0
	for _, r := range w.Rules {
		for i := range r.Conditions {
			if r.Conditions[i].Variable.IsString() {
				n++
			}
		}
	}
	for _, r := range w.Rules {
		rp := rulePlan{rule: r, matchAny: r.MatchAny}
		for i := range r.Conditions {
			c := &r.Conditions[i]
			pc := planCond{c: c, bit: -1}
			if n <= maxStringConds && c.Variable.IsString() {
				pc.bit = int8(len(p.strConds))
				p.varBits[c.Variable] |= 1 << len(p.strConds)
				p.strConds = append(p.strConds, c)
			}
			rp.conds = append(rp.conds, pc)
		}
		slices.SortStableFunc(rp.conds, func(a, b planCond) int { return cmp.Compare(a.cost(), b.cost()) })
		for _, pc := range rp.conds {
			if pc.c.Timed() {
				rp.timed = append(rp.timed, pc.c)
			} else {
				rp.static = append(rp.static, pc)
			}
		}
		rp.needsEvent = needsEvent(r)
		p.rules = append(p.rules, rp)
	}
	p.empty = p.bits("")
	return p
}

// bits is the results of the string conditions for s as the value of
// their variables.
func (p *widgetPlan) bits(s string) uint64 {
	vars := rules.Vars{CurrentURL: s, ReferralURL: s, PageTitle: s, EventName: s}
	var bits uint64
	for i, c := range p.strConds {
		if c.True(&vars) {
			bits |= 1 << i
		}
	}
	return bits
}

// with is bits with those of variable x replaced by those of another string.
func (p *widgetPlan) with(bits uint64, x rules.Variable, strBits uint64) uint64 {
	return bits&^p.varBits[x] | strBits&p.varBits[x]
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

func (pc planCond) cost() int {
	switch {
	case pc.c.Variable >= rules.TimeOnSite: // numbers
		return 0
	case pc.c.Operator != rules.Matches:
		return 1
	}
	return 2
}

// holds is rules.Rule.Holds, given the bits of vars' strings.
func (rp *rulePlan) holds(bits uint64, vars *rules.Vars) bool {
	return rp.decide(rp.conds, bits, vars)
}

// decide is whether conds hold, as their rule combines them.
func (rp *rulePlan) decide(conds []planCond, bits uint64, vars *rules.Vars) bool {
	for _, pc := range conds {
		if pc.true(bits, vars) == rp.matchAny {
			return rp.matchAny
		}
	}
	return !rp.matchAny
}

func (pc planCond) true(bits uint64, vars *rules.Vars) bool {
	if pc.bit >= 0 {
		return bits>>uint(pc.bit)&1 != 0
	}
	return pc.c.True(vars)
}

// firstHolding is the first instant at or after from, and before before,
// at which the rule holds for v if no event comes first — time passing
// alone, the event name empty — and false if there is none. vars are v's
// at from. The instant is from itself or an onset of the rule: each of its
// time conditions holds from its onset on (gte, gt, neq), until a bound
// (lt, lte), or for one millisecond (eq). The time conditions are looked
// at first: they are integer comparisons, and most rules are decided by
// them.
func (rp *rulePlan) firstHolding(v *visitor, vars *rules.Vars, from, before int64) (int64, bool) {
	bits := v.strBits
	if rp.matchAny {
		first, ok := int64(0), false
		for _, c := range rp.timed {
			if at, holds := v.earliest(c, from); holds && at < before && (!ok || at < first) {
				first, ok = at, true
			}
		}
		if first != from && rp.decide(rp.static, bits, vars) {
			return from, true // a static condition is true: the rule holds
		}
		return first, ok
	}
	at := from
	for moved := true; moved; {
		moved = false
		for _, c := range rp.timed {
			next, holds := v.earliest(c, at)
			if !holds || next >= before {
				return 0, false
			}
			if next > at {
				at, moved = next, true
			}
		}
	}
	return at, rp.decide(rp.static, bits, vars)
}
