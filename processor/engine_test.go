package processor_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/processor"
	"github.com/beckon-chat/beckon/rules"
	"github.com/beckon-chat/beckon/schemas"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC).UnixMilli()

// ev builds an event of visitor v at t0+ms.
func ev(typ schemas.EventType, visitor string, ms int64, url string) schemas.Event {
	return schemas.Event{Type: typ, WidgetID: "shop", VisitorID: visitor, TS: t0 + ms, URL: url}
}

func mustRules(t testing.TB, yaml string) *rules.Set {
	t.Helper()
	set, err := rules.Parse([]byte(yaml), "test.yaml")
	require.NoError(t, err)
	return set
}

// run applies events and drains, returning "rule@ms/trigger" per invitation.
func run(t testing.TB, set *rules.Set, events ...schemas.Event) []string {
	t.Helper()
	e := processor.New(set)
	var invs []schemas.Invitation
	for i := range events {
		invs = e.Apply(&events[i], invs)
	}
	invs = e.Drain(invs)
	out := make([]string, len(invs))
	for i, inv := range invs {
		out[i] = fmt.Sprintf("%s@%d/%s", inv.RuleID, inv.At-t0, inv.Trigger)
	}
	return out
}

func widget(extra, rulesYAML string) string {
	return "widgets:\n- id: shop\n" + extra + "  rules:\n" + rulesYAML
}

const hiInv = "    invitation: {department: sales, prompt: Hi}\n"

func rule(id, more string, conds ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  - id: %s\n%s%s    conditions:\n", id, more, hiInv)
	for _, c := range conds {
		fmt.Fprintf(&b, "    - %s\n", c)
	}
	return b.String()
}

func TestTimerFiresBeforeEventAtSameInstant(t *testing.T) {
	set := mustRules(t, widget("", rule("stay", "", "{variable: current_url, operator: contains, value: /a}", "{variable: time_on_page, operator: gte, value: 10}")))
	got := run(t, set, ev(schemas.PageView, "v", 0, "https://x/a"), ev(schemas.PageView, "v", 10000, "https://x/b"))
	assert.Equal(t, []string{"stay@10000/timer"}, got)
}

func TestOnsetOperators(t *testing.T) {
	for _, tc := range []struct {
		op   string
		want []string
	}{
		{"gte", []string{"r@5000/timer"}},
		{"gt", []string{"r@5001/timer"}},
		{"eq", []string{"r@5000/timer"}},
		{"neq", []string{"r@0/event"}}, // true from the start: 0 != 5
		{"lt", []string{"r@0/event"}},
		{"lte", []string{"r@0/event"}},
	} {
		t.Run(tc.op, func(t *testing.T) {
			set := mustRules(t, widget("", rule("r", "", "{variable: time_on_page, operator: "+tc.op+", value: 5}")))
			assert.Equal(t, tc.want, run(t, set, ev(schemas.PageView, "v", 0, "https://x/a")))
		})
	}
}

func TestNeqOnsetAfterMissedInstant(t *testing.T) {
	// neq 0 is false at page start and true from 1 ms on: its onset fires.
	set := mustRules(t, widget("", rule("r", "", "{variable: time_on_page, operator: neq, value: 0}")))
	assert.Equal(t, []string{"r@1/timer"}, run(t, set, ev(schemas.PageView, "v", 0, "https://x/a")))
}

func TestEqMissedWhenNotPresent(t *testing.T) {
	// eq 5 holds only at 5 s exactly; the visitor left at 4 s.
	set := mustRules(t, widget("", rule("r", "", "{variable: time_on_page, operator: eq, value: 5}")))
	got := run(t, set, ev(schemas.PageView, "v", 0, "https://x/a"), ev(schemas.Leave, "v", 4000, ""))
	assert.Empty(t, got)
}

func TestPresenceEndsTimers(t *testing.T) {
	set := mustRules(t, widget("  presence_timeout: 10s\n", rule("r", "", "{variable: time_on_site, operator: gte, value: 10}", "{variable: pages_viewed, operator: gte, value: 1}")))
	// Deadline 0+10 s: the onset at 10 s is within presence (T <= deadline).
	assert.Equal(t, []string{"r@10000/timer"}, run(t, set, ev(schemas.PageView, "v", 0, "https://x/a")))
	set = mustRules(t, widget("  presence_timeout: 10s\n", rule("r", "", "{variable: time_on_site, operator: gt, value: 10}")))
	assert.Empty(t, run(t, set, ev(schemas.PageView, "v", 0, "https://x/a")))
}

// A heartbeat moves presence on: an onset just past the old deadline, which
// was no timer instant then, becomes one.
func TestHeartbeatBringsOnsetIntoPresence(t *testing.T) {
	set := mustRules(t, widget("  presence_timeout: 10s\n", rule("r", "", "{variable: time_on_page, operator: gte, value: 10.001}")))
	assert.Equal(t, []string{"r@10001/timer"}, run(t, set,
		ev(schemas.PageView, "v", 0, "https://x/a"), // deadline 10000: the onset 10001 is past it
		ev(schemas.Heartbeat, "v", 5000, "https://x/a"),
	))
	assert.Empty(t, run(t, set, ev(schemas.PageView, "v", 0, "https://x/a")))
}

func TestLeaveThenReturnRestoresPresence(t *testing.T) {
	set := mustRules(t, widget("", rule("r", "", "{variable: time_on_page, operator: gte, value: 10}")))
	got := run(t, set,
		ev(schemas.PageView, "v", 0, "https://x/a"),
		ev(schemas.Leave, "v", 3000, ""),
		ev(schemas.Heartbeat, "v", 8000, "https://x/a"), // same page: page_start stays 0
	)
	assert.Equal(t, []string{"r@10000/timer"}, got)
}

func TestLeaveIsNotAnEvaluationInstant(t *testing.T) {
	set := mustRules(t, widget("", rule("r", "", "{variable: pages_viewed, operator: gte, value: 1}")))
	e := processor.New(set)
	l := ev(schemas.Leave, "v", 0, "https://x/a")
	assert.Empty(t, e.Apply(&l, nil), "a leave evaluates nothing and starts no page")
	hb := ev(schemas.Heartbeat, "v", 1000, "https://x/a")
	invs := e.Apply(&hb, nil)
	require.Len(t, invs, 1)
	assert.Equal(t, "https://x/a", invs[0].PageURL)
}

func TestCooldownBlocksThenFiresAtEnd(t *testing.T) {
	set := mustRules(t, widget("  cooldown: 5s\n", rule("a", "", "{variable: current_url, operator: contains, value: /x}")+
		rule("b", "", "{variable: current_url, operator: contains, value: /x}")))
	got := run(t, set, ev(schemas.PageView, "v", 0, "https://s/x"), ev(schemas.Heartbeat, "v", 2000, "https://s/x"))
	assert.Equal(t, []string{"a@0/event", "b@5000/timer"}, got)
}

func TestCooldownEndNotReachedWhenAbsent(t *testing.T) {
	set := mustRules(t, widget("  cooldown: 60s\n  presence_timeout: 30s\n", rule("a", "", "{variable: current_url, operator: contains, value: /x}")+
		rule("b", "", "{variable: current_url, operator: contains, value: /x}")))
	got := run(t, set, ev(schemas.PageView, "v", 0, "https://s/x"))
	assert.Equal(t, []string{"a@0/event"}, got)
}

func TestAtMostOneInvitationPerInstant(t *testing.T) {
	set := mustRules(t, widget("", rule("a", "", "{variable: pages_viewed, operator: gte, value: 1}")+
		rule("b", "", "{variable: pages_viewed, operator: gte, value: 1}")))
	e := processor.New(set)
	pv := ev(schemas.PageView, "v", 0, "https://s/x")
	invs := e.Apply(&pv, nil)
	assert.Len(t, invs, 1)
	assert.Equal(t, "a", invs[0].RuleID)
}

func TestDisabledRuleNeverFires(t *testing.T) {
	set := mustRules(t, widget("", rule("a", "    enabled: false\n", "{variable: pages_viewed, operator: gte, value: 1}")+
		rule("b", "", "{variable: pages_viewed, operator: gte, value: 1}")))
	assert.Equal(t, []string{"b@0/event"}, run(t, set, ev(schemas.PageView, "v", 0, "https://s/x")))
}

func TestSessionTimeoutStartsNewSession(t *testing.T) {
	set := mustRules(t, widget("  session_timeout: 1m\n  presence_timeout: 10s\n", rule("a", "", "{variable: pages_viewed, operator: eq, value: 1}")))
	e := processor.New(set)
	var invs []schemas.Invitation
	for _, x := range []schemas.Event{
		ev(schemas.PageView, "v", 0, "https://s/1"),
		ev(schemas.PageView, "v", 60000, "https://s/2"),  // exactly the timeout: same session
		ev(schemas.PageView, "v", 120001, "https://s/3"), // past it: new session, pages_viewed 1
	} {
		invs = e.Apply(&x, invs)
	}
	require.Len(t, invs, 2)
	assert.NotEqual(t, invs[0].SessionID, invs[1].SessionID)
	assert.Equal(t, "https://s/3", invs[1].PageURL)
}

func TestReferralIsFirstEventOfSession(t *testing.T) {
	set := mustRules(t, widget("", rule("g", "", "{variable: referral_url, operator: equals, value: google.com/}")))
	first := ev(schemas.Heartbeat, "v", 0, "https://s/x") // no referrer on the first event
	second := ev(schemas.PageView, "v", 1000, "https://s/y")
	second.Referrer = "https://google.com/"
	assert.Empty(t, run(t, set, first, second))
}

func TestHeartbeatWithoutURLKeepsPage(t *testing.T) {
	set := mustRules(t, widget("", rule("p", "", "{variable: pages_viewed, operator: eq, value: 1}", "{variable: time_on_page, operator: gte, value: 3}")))
	got := run(t, set, ev(schemas.PageView, "v", 0, "https://s/x"), ev(schemas.Heartbeat, "v", 2000, ""))
	assert.Equal(t, []string{"p@3000/timer"}, got)
}

func TestNoPageTimeOnPageCountsFromSessionStart(t *testing.T) {
	set := mustRules(t, widget("", rule("p", "", "{variable: time_on_page, operator: gte, value: 2}")))
	e := ev(schemas.Custom, "v", 0, "")
	e.Name = "hello"
	assert.Equal(t, []string{"p@2000/timer"}, run(t, set, e))
}

func TestEventNameOnlyAtItsInstant(t *testing.T) {
	set := mustRules(t, widget("", rule("n", "", "{variable: event_name, operator: equals, value: add_to_cart}", "{variable: time_on_page, operator: gte, value: 5}")))
	c := ev(schemas.Custom, "v", 1000, "https://s/x")
	c.Name = "add_to_cart"
	// At 1 s the name is set but time_on_page is 1 s; at the 5 s onset the name is "".
	assert.Empty(t, run(t, set, ev(schemas.PageView, "v", 0, "https://s/x"), c))
}

func TestOncePerPageFiresAgainOnNewPage(t *testing.T) {
	set := mustRules(t, widget("", rule("p", "    frequency: once_per_page\n", "{variable: time_on_page, operator: gte, value: 1}")))
	got := run(t, set,
		ev(schemas.PageView, "v", 0, "https://s/x"),
		ev(schemas.Heartbeat, "v", 2000, "https://s/y"), // SPA navigation
	)
	assert.Equal(t, []string{"p@1000/timer", "p@3000/timer"}, got)
}

func TestClockGoingBackIsClamped(t *testing.T) {
	set := mustRules(t, widget("", rule("p", "", "{variable: pages_viewed, operator: gte, value: 2}")))
	e := processor.New(set)
	a, b := ev(schemas.PageView, "v", 5000, "https://s/x"), ev(schemas.PageView, "v", 1000, "https://s/y")
	invs := e.Apply(&a, nil)
	invs = e.Apply(&b, invs)
	require.Len(t, invs, 1)
	assert.Equal(t, t0+5000, invs[0].At, "an event earlier than the visitor's last one is taken at that time")
}

func TestURLSchemeRules(t *testing.T) {
	for _, tc := range []struct {
		cond, url string
		want      bool
	}{
		{"{variable: current_url, operator: equals, value: www.a.example/p}", "https://www.a.example/p", true},
		{"{variable: current_url, operator: equals, value: www.a.example/p}", "http://a.example/p", false},
		{"{variable: current_url, operator: equals, value: 'https://www.a.example/p'}", "https://WWW.a.example/p", true},
		{"{variable: current_url, operator: equals, value: 'http://www.a.example/p'}", "https://www.a.example/p", false},
		{"{variable: current_url, operator: starts_with, value: www.a}", "https://www.a.example/p", true},
		{"{variable: current_url, operator: contains, value: https}", "https://www.a.example/p", false},
		{"{variable: current_url, operator: not_contains, value: /p}", "https://www.a.example/q", true},
		{"{variable: current_url, operator: not_equals, value: www.a.example/p}", "https://www.a.example/P", false},
		{"{variable: current_url, operator: ends_with, value: /P}", "https://www.a.example/p", true},
		{"{variable: current_url, operator: matches, value: '^https://www'}", "https://www.a.example/p", true},
		{"{variable: current_url, operator: matches, value: '^www'}", "https://www.a.example/p", false},
		{"{variable: page_title, operator: contains, value: CAFÉ}", "https://s/x", true},
	} {
		t.Run(tc.cond+" "+tc.url, func(t *testing.T) {
			set := mustRules(t, widget("", rule("r", "", tc.cond)))
			pv := ev(schemas.PageView, "v", 0, tc.url)
			pv.Title = "Le Café"
			got := run(t, set, pv)
			assert.Equal(t, tc.want, len(got) == 1, "%v", got)
		})
	}
}

func TestStateIsDroppedAfterSessionEnds(t *testing.T) {
	set := mustRules(t, widget("  session_timeout: 1m\n  presence_timeout: 10s\n", rule("r", "", "{variable: event_name, operator: equals, value: never}")))
	e := processor.New(set)
	for i := 0; i < 1000; i++ {
		x := ev(schemas.PageView, fmt.Sprintf("v%d", i), int64(i), "https://s/x")
		e.Apply(&x, nil)
	}
	assert.Equal(t, 1000, e.Visitors())
	e.Advance(t0+999+60000, nil)
	assert.Equal(t, 1, e.Visitors(), "only the visitor whose session can still continue is kept")
	e.Advance(t0+999+60001, nil)
	assert.Equal(t, 0, e.Visitors())
}

func TestTicksFireTimersWithoutEvents(t *testing.T) {
	set := mustRules(t, widget("", rule("r", "", "{variable: time_on_page, operator: gt, value: 20}")))
	e := processor.New(set)
	pv := ev(schemas.PageView, "v", 0, "https://s/pricing")
	assert.Empty(t, e.Apply(&pv, nil))
	tick := schemas.Event{Type: schemas.Tick, TS: t0 + 20000}
	assert.Empty(t, e.Apply(&tick, nil))
	tick.TS = t0 + 20250
	invs := e.Apply(&tick, nil)
	require.Len(t, invs, 1)
	assert.Equal(t, t0+20001, invs[0].At)
	assert.Equal(t, schemas.TriggerTimer, invs[0].Trigger)
}

func TestUnknownWidgetIgnored(t *testing.T) {
	set := mustRules(t, widget("", rule("r", "", "{variable: pages_viewed, operator: gte, value: 1}")))
	e := processor.New(set)
	x := ev(schemas.PageView, "v", 0, "https://s/x")
	x.WidgetID = "other"
	assert.Empty(t, e.Apply(&x, nil))
	assert.Equal(t, uint64(1), e.Stats().UnknownWidget)
	assert.Equal(t, 0, e.Visitors())
}

// TestEngineKeepsNoEventStrings: with CopyEventStrings, Apply copies what
// it keeps, so a reader may hand it strings that point into a buffer it
// reuses (as Eval does).
func TestEngineKeepsNoEventStrings(t *testing.T) {
	set := mustRules(t, widget("", rule("p", "", "{variable: current_url, operator: contains, value: /pricing}", "{variable: time_on_page, operator: gte, value: 5}")))
	buf := []byte("v1https://s/pricingPricinghttps://google/")
	borrowed := func(i, j int) string { return unsafe.String(&buf[i], j-i) }
	e := processor.New(set)
	e.CopyEventStrings()
	pv := schemas.Event{Type: schemas.PageView, WidgetID: "shop", TS: t0,
		VisitorID: borrowed(0, 2), URL: borrowed(2, 19), Title: borrowed(19, 26), Referrer: borrowed(26, 41)}
	require.Empty(t, e.Apply(&pv, nil))
	for i := range buf {
		buf[i] = 'x' // the reader reuses its buffer
	}
	invs := e.Drain(nil)
	require.Len(t, invs, 1)
	assert.Equal(t, "v1", invs[0].VisitorID)
	assert.Equal(t, "https://s/pricing", invs[0].PageURL)
}
