package ingest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/ingest"
	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/schemas"
)

func TestSingleEventIsStoredInItsVisitorsPartition(t *testing.T) {
	e := newEnv(t, nil)
	resp := e.post(t, `{"id":"e1","type":"page_view","widget_id":"acme","visitor_id":"v-1",
		"ts":"2026-11-23T09:59:58.123Z","sent_ts":"2026-11-23T09:59:59.000Z",
		"url":"https://acme.example/pricing","referrer":"https://search.example/","title":"Pricing"}`)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)

	msgs := stored(t, e.js, false)
	require.Len(t, msgs, 1)
	p := streams.Partition("acme", "v-1", testPartitions)
	assert.Equal(t, streams.EventSubject(p, "acme", "v-1"), msgs[0].Subject)
	assert.Equal(t, "e1", msgs[0].MsgID)
	assert.Equal(t, schemas.Event{
		ID: "e1", Type: schemas.PageView, WidgetID: "acme", VisitorID: "v-1",
		TS:       t0.UnixMilli(), // ingest's clock, not the client's
		URL:      "https://acme.example/pricing",
		Referrer: "https://search.example/", Title: "Pricing",
		ClientTS: t0.UnixMilli() - 1877, // the client's ts, kept
		SentTS:   t0.UnixMilli() - 1000,
	}, msgs[0].Event)
}

func TestBatchIsStoredInOrderWithTheServerTime(t *testing.T) {
	e := newEnv(t, nil)
	e.clock.Advance(1500 * time.Millisecond)
	var evs []string
	for i := range 5 {
		evs = append(evs, fmt.Sprintf(`{"id":"b%d","type":"heartbeat","widget_id":"acme","visitor_id":"v%d","url":"https://acme.example/%d"}`, i, i%2, i))
	}
	resp := e.post(t, "[\n"+strings.Join(evs, ",\n")+"\n]", "Content-Type: application/json")
	require.Equal(t, http.StatusNoContent, resp.StatusCode)

	msgs := stored(t, e.js, false)
	require.Len(t, msgs, 5)
	for _, v := range []string{"v0", "v1"} {
		var got []string
		for _, m := range msgs {
			if m.Event.VisitorID != v {
				continue
			}
			got = append(got, m.Event.ID)
			assert.Equal(t, streams.EventSubject(streams.Partition("acme", v, testPartitions), "acme", v), m.Subject)
			assert.Equal(t, t0.UnixMilli()+1500, m.Event.TS)
			assert.Zero(t, m.Event.ClientTS, "no client time was sent")
		}
		if v == "v0" {
			assert.Equal(t, []string{"b0", "b2", "b4"}, got)
		} else {
			assert.Equal(t, []string{"b1", "b3"}, got)
		}
	}
}

func TestEventTimesNeverGoBack(t *testing.T) {
	e := newEnv(t, nil)
	require.Equal(t, http.StatusNoContent, e.post(t, `{"type":"leave","widget_id":"w","visitor_id":"v"}`).StatusCode)
	e.clock.Advance(-5 * time.Second) // the wall clock stepped back
	require.Equal(t, http.StatusNoContent, e.post(t, `{"type":"leave","widget_id":"w","visitor_id":"v"}`).StatusCode)
	msgs := stored(t, e.js, false)
	require.Len(t, msgs, 2)
	assert.Equal(t, msgs[0].Event.TS, msgs[1].Event.TS)
}

func TestIDsAreAssigned(t *testing.T) {
	e := newEnv(t, nil)
	body := `[{"type":"event","name":"signup","widget_id":"w","visitor_id":"v","client_ts":"2026-11-23T09:00:00.000Z"},
		{"type":"heartbeat","widget_id":"w","visitor_id":"v"}]`
	require.Equal(t, http.StatusNoContent, e.post(t, body).StatusCode)
	msgs := stored(t, e.js, false)
	require.Len(t, msgs, 2)
	for _, m := range msgs {
		assert.Len(t, m.Event.ID, 22)
		assert.NoError(t, schemas.ValidateID("id", m.Event.ID))
		assert.Equal(t, m.Event.ID, m.MsgID)
	}
	assert.NotEqual(t, msgs[0].Event.ID, msgs[1].Event.ID)

	// A retry: the event with a client time gets the same id and is
	// de-duplicated; the one without is stored again (see assignID).
	e.clock.Advance(3 * time.Second)
	require.Equal(t, http.StatusNoContent, e.post(t, body).StatusCode)
	msgs = stored(t, e.js, false)
	require.Len(t, msgs, 3)
	assert.Equal(t, schemas.Heartbeat, msgs[2].Event.Type)
}

func TestDuplicateIDIsStoredOnce(t *testing.T) {
	e := newEnv(t, nil)
	body := `{"id":"same","type":"heartbeat","widget_id":"w","visitor_id":"v"}`
	for range 3 {
		require.Equal(t, http.StatusNoContent, e.post(t, body).StatusCode)
	}
	assert.Len(t, stored(t, e.js, false), 1)
}

func TestBadRequests(t *testing.T) {
	ev := func(fields string) string {
		return `{"type":"heartbeat","widget_id":"w","visitor_id":"v"` + fields + `}`
	}
	long := strings.Repeat("x", 129)
	tests := []struct {
		name   string
		method string
		body   string
		status int
		field  string
		index  int // -1: none
		says   string
	}{
		{"bad JSON", "POST", `{"type":`, 400, "type", -1, "missing value"},
		{"not an object", "POST", `"hello"`, 400, "", -1, "object or an array"},
		{"empty batch", "POST", `[]`, 400, "", -1, "no events"},
		{"missing widget_id", "POST", `{"type":"heartbeat","visitor_id":"v"}`, 400, "widget_id", -1, "required"},
		{"visitor_id with a dot", "POST", `{"type":"heartbeat","widget_id":"w","visitor_id":"a.b"}`, 400, "visitor_id", -1, "A-Z"},
		{"visitor_id with *", "POST", `{"type":"heartbeat","widget_id":"w","visitor_id":"a*"}`, 400, "visitor_id", -1, ""},
		{"visitor_id with >", "POST", `{"type":"heartbeat","widget_id":"w","visitor_id":">"}`, 400, "visitor_id", -1, ""},
		{"visitor_id with a space", "POST", `{"type":"heartbeat","widget_id":"w","visitor_id":"a b"}`, 400, "visitor_id", -1, ""},
		{"visitor_id of 129 chars", "POST", `{"type":"heartbeat","widget_id":"w","visitor_id":"` + long + `"}`, 400, "visitor_id", -1, ""},
		{"page_view without url", "POST", `{"type":"page_view","widget_id":"w","visitor_id":"v"}`, 400, "url", -1, "required"},
		{"event without name", "POST", `[` + ev("") + `,{"type":"event","widget_id":"w","visitor_id":"v"}]`, 400, "name", 1, "required"},
		{"unknown type", "POST", `{"type":"click","widget_id":"w","visitor_id":"v"}`, 400, "type", -1, "page_view"},
		{"client tick", "POST", `{"type":"tick","ts":"2026-11-23T10:00:00.000Z"}`, 400, "type", -1, "ingest's own"},
		{"bad time", "POST", ev(`,"ts":"yesterday"`), 400, "ts", -1, "RFC 3339"},
		{"syntax error in batch", "POST", `[` + ev("") + `,{"url":3}]`, 400, "url", 1, "string"},
		{"body too big", "POST", `[` + strings.Repeat(ev(`,"title":"`+strings.Repeat("t", 1000)+`"`)+",", 70) + ev("") + `]`, 413, "", -1, "exceeds 65536 bytes"},
		{"too many events", "POST", `[` + strings.Repeat(ev("")+",", 100) + ev("") + `]`, 413, "", -1, "101 events, at most 100"},
		{"GET", "GET", "", 405, "", -1, "use POST"},
		{"PUT", "PUT", ev(""), 405, "", -1, "use POST"},
	}
	e := newEnv(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, e.srv.URL+"/v1/events", strings.NewReader(tt.body))
			require.NoError(t, err)
			resp, err := e.srv.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, tt.status, resp.StatusCode)
			p := problem(t, resp)
			assert.Equal(t, tt.field, p.Field)
			if tt.index < 0 {
				assert.Nil(t, p.Index)
			} else if assert.NotNil(t, p.Index) {
				assert.Equal(t, tt.index, *p.Index)
			}
			assert.NotEmpty(t, p.Error)
			assert.Contains(t, p.Error, tt.says)
			if tt.field != "" {
				assert.True(t, strings.HasPrefix(p.Error, tt.field+" "), "the message starts with the field: %q", p.Error)
			}
		})
	}
	assert.Empty(t, stored(t, e.js, false), "nothing of a rejected request is stored")
}

func TestRateLimitPerClientIP(t *testing.T) {
	e := newEnv(t, func(c *ingest.Config) {
		c.RateLimit = 2 // events per second
		c.RateBurst = 3
		c.MaxBatch = 3
	})
	batch := `[{"type":"heartbeat","widget_id":"w","visitor_id":"v"},{"type":"leave","widget_id":"w","visitor_id":"v"}]`
	require.Equal(t, http.StatusNoContent, e.post(t, batch).StatusCode)
	resp := e.post(t, batch)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "1", resp.Header.Get("Retry-After"), "one more token comes in half a second")
	assert.Contains(t, problem(t, resp).Error, "rate limit")

	e.clock.Advance(500 * time.Millisecond)
	require.Equal(t, http.StatusNoContent, e.post(t, batch).StatusCode)
	assert.Len(t, stored(t, e.js, false), 4)
}

func TestRateLimitTrustsTheProxyOnlyWhenTold(t *testing.T) {
	for _, trust := range []bool{false, true} {
		t.Run(fmt.Sprint("trust=", trust), func(t *testing.T) {
			e := newEnv(t, func(c *ingest.Config) {
				c.RateLimit, c.RateBurst, c.MaxBatch = 1, 1, 1
				c.TrustProxyHeaders = trust
			})
			ev := `{"type":"heartbeat","widget_id":"w","visitor_id":"v"}`
			require.Equal(t, http.StatusNoContent, e.post(t, ev, "X-Forwarded-For: 1.1.1.1, 10.0.0.1").StatusCode)
			want := http.StatusTooManyRequests
			if trust {
				want = http.StatusNoContent // another client behind the proxy
			}
			assert.Equal(t, want, e.post(t, ev, "X-Forwarded-For: 1.1.1.1, 10.0.0.2").StatusCode)
		})
	}
}
