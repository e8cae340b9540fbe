package processor

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/internal/gen"
	"github.com/beckon-chat/beckon/rules"
	"github.com/beckon-chat/beckon/schemas"
)

// The engine wakes a visitor only at the timer instants where a rule fires
// and passes over the others (visitor.nextFiring, visitor.passed), where
// SPEC §4 evaluates every one of them. Both must give the same
// invitations, in the same order: here over random rules files — every
// variable and operator, match all and any, both frequencies, cooldowns,
// short timeouts — and generated traffic with late events and leaves.
func TestFiringInstantsOnlyGiveTheOutputOfEveryInstant(t *testing.T) {
	fired := 0
	for seed := range uint64(60) {
		rng := rand.New(rand.NewPCG(seed, 7))
		events := randomTraffic(t, rng, seed)
		src := randomRules(rng, events)
		set, err := rules.Parse(src, "random.json")
		require.NoError(t, err, "%s", src)

		ref := New(set)
		ref.everyInstant = true
		want := runAll(ref, events)
		got := runAll(New(set), events)
		require.Equal(t, want, got, "seed %d, rules %s", seed, src)
		fired += len(want)
	}
	require.Greater(t, fired, 1000, "the random rules should fire")
}

func runAll(e *Engine, events []schemas.Event) []schemas.Invitation {
	var out []schemas.Invitation
	for i := range events {
		out = e.Apply(&events[i], out)
	}
	return e.Drain(out)
}

// randomTraffic is generated traffic with one event in twenty moved up to
// twenty seconds back in time: late events, which the engine clamps to the
// visitor's time.
func randomTraffic(t *testing.T, rng *rand.Rand, seed uint64) []schemas.Event {
	var events []schemas.Event
	err := gen.Generate(gen.Config{Seed: int64(seed), Visitors: 200, Events: 6000,
		ArrivalEvery: time.Duration(1+rng.IntN(3000)) * time.Millisecond, TickEvery: time.Duration(rng.IntN(3)) * time.Second},
		func(ev *schemas.Event) error { events = append(events, *ev); return nil })
	require.NoError(t, err)
	for i := range events {
		if events[i].Type != schemas.Tick && rng.IntN(20) == 0 {
			events[i].TS -= rng.Int64N(20_000)
		}
	}
	return events
}

// randomRules is a rules file for the generator's widgets whose string
// conditions look for pieces of the traffic's own urls, titles, referrers
// and event names, and whose times are short, so that rules fire often.
func randomRules(rng *rand.Rand, events []schemas.Event) []byte {
	seen := map[rules.Variable][]string{}
	add := func(v rules.Variable, s string) {
		if s != "" && !slices.Contains(seen[v], s) {
			seen[v] = append(seen[v], s)
		}
	}
	for _, ev := range events {
		add(rules.CurrentURL, ev.URL)
		add(rules.PageTitle, ev.Title)
		add(rules.ReferralURL, ev.Referrer)
		add(rules.EventName, ev.Name)
	}
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	durations := []string{"0s", "5s", "30s", "1m", "2m", "30m"}
	type cond struct {
		Variable string `json:"variable"`
		Operator string `json:"operator"`
		Value    any    `json:"value"`
	}
	var widgets []map[string]any
	for _, id := range []string{"shop", "docs", "saas"} {
		var rs []map[string]any
		for ri := range 1 + rng.IntN(12) {
			var conds []cond
			for range 1 + rng.IntN(4) {
				c := cond{Variable: pick([]string{"current_url", "referral_url", "page_title", "event_name", "time_on_site", "time_on_page", "time_on_page", "pages_viewed"})}
				switch c.Variable {
				case "time_on_site", "time_on_page", "pages_viewed":
					c.Operator = pick([]string{"eq", "neq", "gt", "gte", "lt", "lte"})
					if c.Variable == "pages_viewed" {
						c.Value = rng.IntN(6)
					} else {
						c.Value = float64(rng.IntN(120_000)) / 1000 // seconds, to the ms
					}
				default:
					v := map[string]rules.Variable{"current_url": rules.CurrentURL, "referral_url": rules.ReferralURL, "page_title": rules.PageTitle, "event_name": rules.EventName}[c.Variable]
					s := "x"
					if len(seen[v]) > 0 {
						s = pick(seen[v])
					}
					c.Operator = pick([]string{"equals", "not_equals", "contains", "not_contains", "starts_with", "ends_with", "matches"})
					switch c.Operator {
					case "equals", "not_equals":
						c.Value = strings.ToUpper(s[:1]) + s[1:]
					case "matches":
						c.Value = pick([]string{"[0-9]+$", "^https://", "(?i)pricing|faq", "^$"})
					default:
						i, j := rng.IntN(len(s)), rng.IntN(len(s))
						c.Value = s[min(i, j) : max(i, j)+1]
					}
				}
				conds = append(conds, c)
			}
			rs = append(rs, map[string]any{
				"id":         fmt.Sprintf("r%d", ri),
				"enabled":    rng.IntN(10) > 0,
				"match":      pick([]string{"all", "all", "any"}),
				"frequency":  pick([]string{"once_per_session", "once_per_page"}),
				"invitation": map[string]string{"department": "d", "prompt": "p"},
				"conditions": conds,
			})
		}
		presence := 1 + rng.IntN(3) // 5s, 30s or 1m
		widgets = append(widgets, map[string]any{
			"id":               id,
			"session_timeout":  pick(durations[max(presence, 2):]),
			"presence_timeout": durations[presence],
			"cooldown":         pick(durations[:5]),
			"rules":            rs,
		})
	}
	src, err := json.Marshal(map[string]any{"widgets": widgets})
	if err != nil {
		panic(err)
	}
	return src
}
