package processor

import (
	"math/rand/v2"
	"testing"

	"github.com/beckon-chat/beckon/rules"
)

// A plan, with its results cached across evaluations of a page, decides
// every rule as rules.Rule.Holds does, page after page and session after
// session.
func TestPlanHoldsAsRule(t *testing.T) {
	set, err := rules.Load("../deploy/rules/bench.yaml")
	if err != nil {
		t.Fatal(err)
	}
	urls := []string{"", "https://shop.example/pricing", "https://shop.example/products/12", "https://shop.example/faq",
		"https://shop.example/checkout", "docs.example/faq", "https://saas.example/products/x"}
	titles := []string{"", "Pricing — Shop", "pricing", "FAQ — Docs", "Saas", "Ünïcode Shop"}
	refs := []string{"", "https://www.google.com/", "https://www.facebook.com/x", "https://bing.com/"}
	names := []string{"", "payment_cancelled", "add_to_cart", "video_played", "VIDEO_start"}
	r := rand.New(rand.NewPCG(1, 2))
	e := New(set)
	for _, w := range e.list {
		v := &visitor{id: "v", widget: w}
		checked := 0
		for step := range 20000 {
			switch r.IntN(10) {
			case 0:
				v.startSession(int64(step), 0, refs[r.IntN(len(refs))])
			case 1, 2:
				v.startPage(int64(step), urls[r.IntN(len(urls))], titles[r.IntN(len(titles))])
			}
			at := int64(step)*1000 + int64(r.IntN(400_000))
			vars := v.vars(at, names[r.IntN(len(names))])
			vars.TimeOnPage = int64(r.IntN(200_000))
			vars.PagesViewed = int64(r.IntN(20)) * 1000
			for i := range w.plan.rules {
				rp := &w.plan.rules[i]
				if got, want := rp.holds(v, &vars), rp.rule.Holds(&vars); got != want {
					t.Fatalf("widget %s rule %s step %d: plan %v, rule %v (vars %+v)", w.rules.ID, rp.rule.ID, step, got, want, vars)
				}
				checked++
			}
		}
		if checked == 0 {
			t.Fatal("nothing checked")
		}
	}
}
