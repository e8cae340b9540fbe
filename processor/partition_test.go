package processor_test

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/processor"
	"github.com/beckon-chat/beckon/rules"
	"github.com/beckon-chat/beckon/schemas"
)

const mixedRules = `widgets:
- id: shop
  session_timeout: 2m
  presence_timeout: 15s
  cooldown: 3s
  rules:
  - id: pricing
    invitation: {department: sales, prompt: Hi}
    conditions:
    - {variable: current_url, operator: contains, value: /pricing}
    - {variable: time_on_page, operator: gt, value: 8}
  - id: cancel
    match: any
    invitation: {department: billing, prompt: Hi}
    conditions:
    - {variable: event_name, operator: equals, value: payment_cancelled}
    - {variable: time_on_site, operator: gte, value: 40.5}
  - id: browse
    frequency: once_per_page
    invitation: {department: sales, prompt: Hi}
    conditions:
    - {variable: pages_viewed, operator: gte, value: 3}
    - {variable: time_on_page, operator: eq, value: 2}
  - id: google
    invitation: {department: sales, prompt: Hi}
    conditions:
    - {variable: referral_url, operator: contains, value: google}
    - {variable: pages_viewed, operator: gte, value: 2}
- id: docs
  rules:
  - id: read
    frequency: once_per_page
    invitation: {department: support, prompt: Hi}
    conditions:
    - {variable: page_title, operator: matches, value: '(?i)guide'}
    - {variable: time_on_page, operator: neq, value: 1}
`

// randomStream is a stream of many visitors' interleaved events with ticks,
// times non-decreasing.
func randomStream(seed uint64, n int) []schemas.Event {
	r := rand.New(rand.NewPCG(seed, 1))
	pages := []string{"https://s/", "https://s/pricing", "https://s/checkout", "https://s/docs/guide", "https://s/faq"}
	var out []schemas.Event
	ts := t0
	for len(out) < n {
		ts += int64(r.IntN(400))
		if r.IntN(20) == 0 {
			out = append(out, schemas.Event{Type: schemas.Tick, TS: ts})
			continue
		}
		e := schemas.Event{
			WidgetID:  []string{"shop", "docs", "none"}[r.IntN(3)],
			VisitorID: fmt.Sprintf("v%d", r.IntN(300)),
			TS:        ts,
		}
		switch k := r.IntN(10); {
		case k < 3:
			e.Type, e.URL, e.Title = schemas.PageView, pages[r.IntN(len(pages))], []string{"Guide", "Home"}[r.IntN(2)]
			if r.IntN(3) == 0 {
				e.Referrer = "https://www.google.com/"
			}
		case k < 7:
			e.Type, e.URL = schemas.Heartbeat, pages[r.IntN(len(pages))]
		case k < 9:
			e.Type, e.Name = schemas.Custom, []string{"payment_cancelled", "add_to_cart"}[r.IntN(2)]
		default:
			e.Type = schemas.Leave
		}
		out = append(out, e)
	}
	return out
}

// runPartitioned splits the stream over n engines as partitions do — each
// visitor's events to one engine, ticks to every engine — and returns the
// invitations of all, sorted.
func runPartitioned(set *rules.Set, stream []schemas.Event, n int) []schemas.Invitation {
	engines := make([]*processor.Engine, n)
	for i := range engines {
		engines[i] = processor.New(set)
	}
	var invs []schemas.Invitation
	for i := range stream {
		e := &stream[i]
		if e.Type == schemas.Tick {
			for _, eng := range engines {
				invs = eng.Apply(e, invs)
			}
			continue
		}
		invs = engines[streams.Partition(e.WidgetID, e.VisitorID, n)].Apply(e, invs)
	}
	for _, eng := range engines {
		invs = eng.Drain(invs)
	}
	sort.Slice(invs, func(i, j int) bool { return invs[i].InvitationID < invs[j].InvitationID })
	return invs
}

func TestPartitioningDoesNotChangeInvitations(t *testing.T) {
	set, err := rules.Parse([]byte(mixedRules), "mixed.yaml")
	require.NoError(t, err)
	for seed := uint64(1); seed <= 5; seed++ {
		stream := randomStream(seed, 20000)
		one := runPartitioned(set, stream, 1)
		require.NotEmpty(t, one)
		for _, n := range []int{2, 16} {
			assert.Equal(t, one, runPartitioned(set, stream, n), "seed %d, %d partitions", seed, n)
		}
	}
}

func TestEveryRuleKindFiresInRandomStream(t *testing.T) {
	set, err := rules.Parse([]byte(mixedRules), "mixed.yaml")
	require.NoError(t, err)
	seen := map[string]map[schemas.Trigger]bool{}
	for _, inv := range runPartitioned(set, randomStream(7, 20000), 4) {
		if seen[inv.RuleID] == nil {
			seen[inv.RuleID] = map[schemas.Trigger]bool{}
		}
		seen[inv.RuleID][inv.Trigger] = true
	}
	for _, id := range []string{"pricing", "cancel", "browse", "google", "read"} {
		assert.NotEmpty(t, seen[id], "rule %s fires", id)
	}
	assert.True(t, seen["pricing"][schemas.TriggerTimer])
}
