package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/gateway"
	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/internal/testenv"
	"github.com/beckon-chat/beckon/internal/visitortoken"
	"github.com/beckon-chat/beckon/schemas"
	"github.com/beckon-chat/beckon/sink"
)

var secret = []byte("gateway-test-secret-0123456789abcdef")

// env is a gateway with its NATS, sink and HTTP server.
type env struct {
	gw    *gateway.Gateway
	sink  *sink.Sink
	srv   *httptest.Server
	nc    *nats.Conn
	clock atomic.Int64 // offset added to the gateway's clock, in ns
}

func start(t *testing.T, mutate func(*gateway.Config)) *env {
	t.Helper()
	js := testenv.StartJetStream(t)
	require.NoError(t, streams.EnsureInvitations(context.Background(), js.JS, streams.InvitationsConfig{}))
	e := &env{nc: js.Conn}
	cfg := gateway.Config{
		JetStream: js.JS, Secret: secret, Registerer: prometheus.NewRegistry(),
		Logger: slog.New(slog.DiscardHandler),
		Now:    func() time.Time { return time.Now().Add(time.Duration(e.clock.Load())) },
	}
	if mutate != nil {
		mutate(&cfg)
	}
	gw, err := gateway.New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- gw.Run(ctx) }()
	e.srv = httptest.NewServer(gw.Handler())
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-runErr)
		e.srv.Close()
	})
	e.gw = gw
	e.sink, err = sink.New(sink.Config{Conn: js.Conn})
	require.NoError(t, err)
	return e
}

// publish stores the invitations one after another, so that their stream
// sequences follow the argument order (one Publish call may store different
// visitors' invitations in any order).
func (e *env) publish(t *testing.T, invs ...schemas.Invitation) {
	t.Helper()
	for _, inv := range invs {
		require.NoError(t, e.sink.Publish(context.Background(), []schemas.Invitation{inv}))
	}
}

func token(widget, visitor string) string {
	return visitortoken.Issue(secret, widget, visitor, time.Hour, time.Now())
}

func invitation(id, visitor string) schemas.Invitation {
	return schemas.Invitation{
		InvitationID: id, WidgetID: "acme", VisitorID: visitor, SessionID: "s1",
		RuleID: "pricing-help", RuleName: "Invitation to buy", Department: "sales",
		Title: "Let us help you", Prompt: "Need help?", At: 1795428000000,
		Trigger: schemas.TriggerTimer, PageURL: "https://acme.example/pricing",
	}
}

// event is one parsed SSE event.
type event struct {
	id, name string
	inv      schemas.Invitation
}

// stream is an open SSE response and its parsed events.
type stream struct {
	resp   *http.Response
	events chan event
}

// open connects like EventSource and returns once the gateway has answered
// (and so has joined the live feed).
func (e *env) open(t *testing.T, query string, header http.Header) *stream {
	t.Helper()
	s, resp := e.try(t, query, header)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return s
}

func (e *env) try(t *testing.T, query string, header http.Header) (*stream, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/v1/invitations?"+query, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	s := &stream{resp: resp, events: make(chan event, 100)}
	if resp.StatusCode == http.StatusOK {
		go s.read(t)
	}
	return s, resp
}

func (s *stream) read(t *testing.T) {
	defer close(s.events)
	sc := bufio.NewScanner(s.resp.Body)
	var ev event
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.name != "" {
				s.events <- ev
			}
			ev = event{}
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.name = line[7:]
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(line[6:]), &ev.inv); err != nil {
				t.Errorf("data is not an invitation: %v: %s", err, line)
			}
		}
	}
}

// next waits for the next event.
func (s *stream) next(t *testing.T) event {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		require.True(t, ok, "stream ended")
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
		return event{}
	}
}

// quiet checks that no event arrives for a while.
func (s *stream) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if ok {
			t.Fatalf("unexpected event %s %s", ev.id, ev.inv.InvitationID)
		}
	case <-time.After(d):
	}
}

func TestVisitorReceivesItsInvitation(t *testing.T) {
	e := start(t, nil)
	s := e.open(t, "token="+token("acme", "v1"), nil)
	assert.Equal(t, "text/event-stream", s.resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-cache", s.resp.Header.Get("Cache-Control"))
	assert.Equal(t, "no", s.resp.Header.Get("X-Accel-Buffering"))

	want := invitation("inv-1", "v1")
	e.publish(t, invitation("inv-0", "someone-else"), want)

	ev := s.next(t)
	assert.Equal(t, "invitation", ev.name)
	assert.Equal(t, "2", ev.id, "id is the stream sequence")
	assert.Equal(t, want, ev.inv)
}

func TestEveryTabOfAVisitorReceives(t *testing.T) {
	e := start(t, nil)
	tabs := []*stream{
		e.open(t, "token="+token("acme", "v1"), nil),
		e.open(t, "token="+token("acme", "v1"), nil),
	}
	e.publish(t, invitation("inv-1", "v1"))
	for _, s := range tabs {
		assert.Equal(t, "inv-1", s.next(t).inv.InvitationID)
	}
}

func TestStreamRequestsAreAuthorized(t *testing.T) {
	e := start(t, nil)
	forged := visitortoken.Issue([]byte("not the gateway's secret, but long enough"), "acme", "v1", time.Hour, time.Now())
	expired := visitortoken.Issue(secret, "acme", "v1", time.Minute, time.Now().Add(-time.Hour))
	tests := []struct {
		name   string
		query  string
		header http.Header
		want   int
	}{
		{"query token", "token=" + token("acme", "v1") + "&widget_id=acme&visitor_id=v1", nil, http.StatusOK},
		{"bearer token", "", http.Header{"Authorization": {"Bearer " + token("acme", "v1")}}, http.StatusOK},
		{"no token", "", nil, http.StatusUnauthorized},
		{"forged", "token=" + forged, nil, http.StatusUnauthorized},
		{"expired", "token=" + expired, nil, http.StatusUnauthorized},
		{"garbage", "token=abc", nil, http.StatusUnauthorized},
		{"another visitor", "token=" + token("acme", "vA") + "&visitor_id=vB", nil, http.StatusForbidden},
		{"another widget", "token=" + token("acme", "vA") + "&widget_id=other&visitor_id=vA", nil, http.StatusForbidden},
		{"bad last event id", "token=" + token("acme", "v1") + "&lastEventId=x", nil, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, resp := e.try(t, tt.query, tt.header)
			assert.Equal(t, tt.want, resp.StatusCode)
		})
	}
}

func TestOriginsAreChecked(t *testing.T) {
	e := start(t, func(c *gateway.Config) { c.AllowedOrigins = []string{"https://shop.example"} })
	q := "token=" + token("acme", "v1")
	s := e.open(t, q, http.Header{"Origin": {"https://shop.example"}})
	assert.Equal(t, "https://shop.example", s.resp.Header.Get("Access-Control-Allow-Origin"))
	_, resp := e.try(t, q, http.Header{"Origin": {"https://evil.example"}})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
}

func TestReconnectWithLastEventIDDeliversMissedOnce(t *testing.T) {
	for _, via := range []string{"header", "query"} {
		t.Run(via, func(t *testing.T) {
			e := start(t, nil)
			q := "token=" + token("acme", "v1")
			first := e.open(t, q, nil)
			e.publish(t, invitation("inv-1", "v1"))
			seen := first.next(t)
			first.resp.Body.Close()

			e.publish(t, invitation("missed-1", "v1"), invitation("other", "v2"), invitation("missed-2", "v1"))
			var again *stream
			if via == "header" {
				again = e.open(t, q, http.Header{"Last-Event-Id": {seen.id}})
			} else {
				again = e.open(t, q+"&lastEventId="+seen.id, nil)
			}
			e.publish(t, invitation("live", "v1"))

			var got []string
			for range 3 {
				got = append(got, again.next(t).inv.InvitationID)
			}
			assert.Equal(t, []string{"missed-1", "missed-2", "live"}, got)
			again.quiet(t, 200*time.Millisecond)
		})
	}
}

func TestNewStreamGetsOnlyAFreshLatestInvitation(t *testing.T) {
	e := start(t, nil)
	e.publish(t, invitation("older", "v1"), invitation("latest", "v1"))

	s := e.open(t, "token="+token("acme", "v1"), nil)
	assert.Equal(t, "latest", s.next(t).inv.InvitationID)
	s.quiet(t, 200*time.Millisecond)

	e.clock.Store(int64(2 * time.Minute)) // past FreshWindow
	stale := e.open(t, "token="+token("acme", "v1"), nil)
	stale.quiet(t, 200*time.Millisecond)
}

func TestReplaySkipsStaleInvitations(t *testing.T) {
	e := start(t, func(c *gateway.Config) { c.ReplayWindow = 300 * time.Millisecond })
	q := "token=" + token("acme", "v1")
	first := e.open(t, q, nil)
	e.publish(t, invitation("seen", "v1"), invitation("missed", "v1"))
	seen := first.next(t)
	first.resp.Body.Close()

	time.Sleep(400 * time.Millisecond) // "missed" is now past ReplayWindow
	again := e.open(t, q, http.Header{"Last-Event-Id": {seen.id}})
	e.publish(t, invitation("live", "v1"))
	assert.Equal(t, "live", again.next(t).inv.InvitationID)
}

func TestCloseEndsStreams(t *testing.T) {
	e := start(t, nil)
	s := e.open(t, "token="+token("acme", "v1"), nil)
	e.gw.Close()
	select {
	case _, ok := <-s.events:
		assert.False(t, ok)
	case <-time.After(5 * time.Second):
		t.Fatal("stream still open after Close")
	}
	_, resp := e.try(t, "token="+token("acme", "v1"), nil)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

func TestKeepAlives(t *testing.T) {
	e := start(t, func(c *gateway.Config) { c.KeepAlive = 50 * time.Millisecond })
	s, _ := e.try(t, "token="+token("acme", "v1"), nil)
	r := bufio.NewReader(s.resp.Body)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		if line == ": keep-alive\n" {
			return
		}
	}
	t.Fatal("no keep-alive")
}

func TestTrackerAndDemoAreServed(t *testing.T) {
	e := start(t, nil)
	for path, want := range map[string]string{
		"/v1/tracker.js": "text/javascript",
		"/":              "text/html",
		"/pricing":       "text/html",
		"/products":      "text/html",
		"/checkout":      "text/html",
	} {
		resp, err := http.Get(e.srv.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Contains(t, resp.Header.Get("Content-Type"), want, path)
	}
	resp, err := http.Get(e.srv.URL + "/nope")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func ExampleGateway_Handler() {
	fmt.Println("mount gateway.Handler() at / beside ingest's /v1/events and /v1/token")
	// Output: mount gateway.Handler() at / beside ingest's /v1/events and /v1/token
}

func TestThousandStreamsEachGetTheirOwn(t *testing.T) {
	if testing.Short() {
		t.Skip("many connections")
	}
	const n = 1000
	e := start(t, nil)
	tr := &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: n}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}
	streamsOf := make([]*stream, n)
	invs := make([]schemas.Invitation, n)
	for i := range n {
		v := fmt.Sprintf("v%d", i)
		ctx, cancel := context.WithCancel(context.Background())
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/v1/invitations?token="+token("acme", v), nil)
		require.NoError(t, err)
		resp, err := client.Do(req)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		t.Cleanup(func() { cancel(); resp.Body.Close() })
		streamsOf[i] = &stream{resp: resp, events: make(chan event, 4)}
		go streamsOf[i].read(t)
		invs[i] = invitation("inv-"+v, v)
	}
	e.publish(t, invs...)
	for i, s := range streamsOf {
		assert.Equal(t, invs[i].InvitationID, s.next(t).inv.InvitationID)
	}
}
