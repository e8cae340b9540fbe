package processor

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/rules"
)

// A plan, with its strings' results as bits, decides every rule as
// rules.Rule.Holds does, page after page and session after session; also
// when a widget has too many string conditions for a bit set.
func TestPlanHoldsAsRule(t *testing.T) {
	bench, err := rules.Load("../deploy/rules/bench.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var many strings.Builder
	many.WriteString("widgets:\n- id: shop\n  rules:\n")
	for i := range 40 {
		fmt.Fprintf(&many, "  - {id: r%d, invitation: {department: d, prompt: p}, conditions: [{variable: current_url, operator: contains, value: /pr%d}, {variable: page_title, operator: not_contains, value: '%d'}]}\n", i, i%3, i%5)
	}
	tooMany, err := rules.Parse([]byte(many.String()), "many.yaml")
	if err != nil {
		t.Fatal(err)
	}
	require.Len(t, newWidgetPlan(tooMany.Widget("shop")).strConds, 0)
	for _, set := range []*rules.Set{bench, tooMany} {
		planHoldsAsRule(t, set)
	}
}

func planHoldsAsRule(t *testing.T, set *rules.Set) {
	urls := []string{"", "https://shop.example/pricing", "https://shop.example/products/12", "https://shop.example/faq",
		"https://shop.example/checkout", "docs.example/faq", "https://saas.example/products/x"}
	titles := []string{"", "Pricing — Shop", "pricing", "FAQ — Docs", "Saas", "Ünïcode Shop"}
	refs := []string{"", "https://www.google.com/", "https://www.facebook.com/x", "https://bing.com/"}
	names := []string{"", "payment_cancelled", "add_to_cart", "video_played", "VIDEO_start"}
	r := rand.New(rand.NewPCG(1, 2))
	e := New(set)
	for _, w := range e.list {
		v := &visitor{id: "v", widget: w}
		v.startSession(0, 0, "")
		checked := 0
		for step := range 20000 {
			switch r.IntN(10) {
			case 0:
				v.startSession(int64(step), 0, refs[r.IntN(len(refs))])
			case 1, 2:
				v.startPage(int64(step), urls[r.IntN(len(urls))], titles[r.IntN(len(titles))])
			}
			at := int64(step)*1000 + int64(r.IntN(400_000))
			name := names[r.IntN(len(names))]
			vars := v.vars(at, name)
			vars.TimeOnPage = int64(r.IntN(200_000))
			vars.PagesViewed = int64(r.IntN(20)) * 1000
			bits := w.plan.with(v.strBits, rules.EventName, w.intern(name).bits)
			for i := range w.plan.rules {
				rp := &w.plan.rules[i]
				if got, want := rp.holds(bits, &vars), rp.rule.Holds(&vars); got != want {
					t.Fatalf("widget %s rule %s step %d: plan %v, rule %v (vars %+v)", w.rules.ID, rp.rule.ID, step, got, want, vars)
				}
				if rp.needsEvent && vars.EventName == "" && rp.rule.Holds(&vars) {
					t.Fatalf("widget %s rule %s holds without an event name, but the plan skips it then", w.rules.ID, rp.rule.ID)
				}
				checked++
			}
		}
		if checked == 0 {
			t.Fatal("nothing checked")
		}
	}
}

func TestNeedsEvent(t *testing.T) {
	set, err := rules.Parse([]byte(`widgets:
- id: w
  rules:
  - {id: all-name, invitation: {department: d, prompt: p}, conditions: [{variable: event_name, operator: equals, value: x}, {variable: pages_viewed, operator: gte, value: 1}]}
  - {id: all-not-name, invitation: {department: d, prompt: p}, conditions: [{variable: event_name, operator: not_equals, value: x}]}
  - {id: any-names, match: any, invitation: {department: d, prompt: p}, conditions: [{variable: event_name, operator: equals, value: x}, {variable: event_name, operator: matches, value: '^y'}]}
  - {id: any-mixed, match: any, invitation: {department: d, prompt: p}, conditions: [{variable: event_name, operator: equals, value: x}, {variable: pages_viewed, operator: gte, value: 1}]}
  - {id: no-name, invitation: {department: d, prompt: p}, conditions: [{variable: pages_viewed, operator: gte, value: 1}]}
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"all-name": true, "all-not-name": false, "any-names": true, "any-mixed": false, "no-name": false}
	for _, r := range set.Widget("w").Rules {
		if got := needsEvent(r); got != want[r.ID] {
			t.Errorf("needsEvent(%s) = %v, want %v", r.ID, got, want[r.ID])
		}
	}
}
