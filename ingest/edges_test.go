package ingest_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/ingest"
	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/internal/testenv"
	"github.com/beckon-chat/beckon/schemas"
)

func TestCORS(t *testing.T) {
	e := newEnv(t, func(c *ingest.Config) {
		c.AllowAnyOrigin = false
		c.AllowedOrigins = map[string][]string{
			"acme":  {"https://www.acme.example", "HTTPS://Shop.Acme.Example/"},
			"demo":  {"*"},
			"other": {"https://other.example"},
		}
	})
	acme := `{"type":"heartbeat","widget_id":"acme","visitor_id":"v"}`

	t.Run("preflight from an allowed origin", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodOptions, e.srv.URL+"/v1/events", nil)
		req.Header.Set("Origin", "https://www.acme.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		resp, err := e.srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, http.StatusNoContent, resp.StatusCode)
		assert.Equal(t, "https://www.acme.example", resp.Header.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
		assert.Equal(t, "POST", resp.Header.Get("Access-Control-Allow-Methods"))
		assert.Equal(t, "Content-Type", resp.Header.Get("Access-Control-Allow-Headers"))
		assert.Equal(t, "Origin", resp.Header.Get("Vary"))
	})
	t.Run("allowed origin", func(t *testing.T) {
		resp := e.post(t, acme, "Origin: https://shop.acme.example")
		assert.Equal(t, http.StatusNoContent, resp.StatusCode)
		assert.Equal(t, "https://shop.acme.example", resp.Header.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
		assert.Equal(t, "Origin", resp.Header.Get("Vary"))
	})
	t.Run("no origin: not a browser", func(t *testing.T) {
		resp := e.post(t, acme)
		assert.Equal(t, http.StatusNoContent, resp.StatusCode)
		assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
	})
	t.Run("widget allowing any origin", func(t *testing.T) {
		resp := e.post(t, `{"type":"heartbeat","widget_id":"demo","visitor_id":"v"}`, "Origin: https://anyone.example")
		assert.Equal(t, http.StatusNoContent, resp.StatusCode)
		assert.Equal(t, "https://anyone.example", resp.Header.Get("Access-Control-Allow-Origin"))
	})
	t.Run("origin of another widget", func(t *testing.T) {
		resp := e.post(t, `[`+acme+`,`+acme+`]`, "Origin: https://other.example")
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		p := problem(t, resp)
		assert.Equal(t, "widget_id", p.Field)
		assert.Equal(t, 0, *p.Index)
		assert.Equal(t, `widget_id origin "https://other.example" is not allowed for widget "acme"`, p.Error)
	})
	t.Run("unknown widget", func(t *testing.T) {
		resp := e.post(t, `{"type":"heartbeat","widget_id":"nope","visitor_id":"v"}`, "Origin: https://www.acme.example")
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	})
	t.Run("preflight from an unknown origin", func(t *testing.T) {
		e2 := newEnv(t, func(c *ingest.Config) {
			c.AllowAnyOrigin = false
			c.AllowedOrigins = map[string][]string{"acme": {"https://www.acme.example"}}
		})
		req, _ := http.NewRequest(http.MethodOptions, e2.srv.URL+"/v1/events", nil)
		req.Header.Set("Origin", "https://evil.example")
		resp, err := e2.srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
		assert.Contains(t, problem(t, resp).Error, `"https://evil.example"`)
	})
}

func TestPixelRecordsAPageView(t *testing.T) {
	e := newEnv(t, nil)
	q := url.Values{"widget_id": {"acme"}, "visitor_id": {"v9"}, "title": {"Home"}, "referrer": {"https://search.example/"}}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/v1/pixel.gif?"+q.Encode(), nil)
	req.Header.Set("Referer", "https://acme.example/home")
	resp, err := e.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "image/gif", resp.Header.Get("Content-Type"))
	assert.Contains(t, resp.Header.Get("Cache-Control"), "no-store")
	assert.Equal(t, "GIF89a", readAll(t, resp.Body)[:6])

	msgs := stored(t, e.js, false)
	require.Len(t, msgs, 1)
	assert.Equal(t, streams.EventSubject(streams.Partition("acme", "v9", testPartitions), "acme", "v9"), msgs[0].Subject)
	ev := msgs[0].Event
	assert.Equal(t, schemas.PageView, ev.Type)
	assert.Equal(t, "https://acme.example/home", ev.URL, "the url defaults to the Referer")
	assert.Equal(t, "Home", ev.Title)
	assert.Equal(t, "https://search.example/", ev.Referrer)
	assert.Equal(t, t0.UnixMilli(), ev.TS)

	resp, err = e.srv.Client().Get(e.srv.URL + "/v1/pixel.gif?widget_id=acme&visitor_id=a.b&url=x")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "visitor_id", problem(t, resp).Field)

	resp, err = e.srv.Client().Head(e.srv.URL + "/v1/pixel.gif?" + q.Encode())
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Len(t, stored(t, e.js, false), 1, "a HEAD records nothing")

	resp, err = e.srv.Client().Post(e.srv.URL+"/v1/pixel.gif", "text/plain", nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestNATSDownAnswers503AndNothingIsStoredThenRecovers(t *testing.T) {
	dir := t.TempDir()
	first := testenv.StartJetStreamIn(t, dir, "127.0.0.1:-1")
	addr := first.Server.Addr().String()
	nc, err := nats.Connect(first.URL, nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	e := newEnvWith(t, js, func(c *ingest.Config) { c.AckTimeout = 500 * time.Millisecond })
	ctx := context.Background()
	require.NoError(t, e.svc.Ready(ctx))

	first.Server.Shutdown()
	first.Server.WaitForShutdown()
	require.Eventually(t, func() bool { return !nc.IsConnected() }, 5*time.Second, 5*time.Millisecond)
	require.ErrorIs(t, e.svc.Ready(ctx), ingest.ErrUnavailable)

	body := `[{"id":"r1","type":"page_view","widget_id":"w","visitor_id":"v","url":"https://w.example/"},
		{"id":"r2","type":"leave","widget_id":"w","visitor_id":"v"}]`
	resp := e.post(t, body)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "2", resp.Header.Get("Retry-After"))
	assert.NotEmpty(t, problem(t, resp).Error)

	second := testenv.StartJetStreamIn(t, dir, addr)
	require.Eventually(t, nc.IsConnected, 10*time.Second, 10*time.Millisecond)
	assert.Empty(t, stored(t, second.JS, false), "the refused request left nothing behind")

	require.Equal(t, http.StatusNoContent, e.post(t, body).StatusCode)
	require.Equal(t, http.StatusNoContent, e.post(t, body).StatusCode, "a second retry is de-duplicated")
	msgs := stored(t, second.JS, false)
	require.Len(t, msgs, 2)
	assert.Equal(t, "r1", msgs[0].Event.ID)
	assert.Equal(t, "r2", msgs[1].Event.ID)
}

func TestNoAckInTimeAnswers503(t *testing.T) {
	js := testenv.StartJetStream(t).JS
	e := newEnvWith(t, js, func(c *ingest.Config) { c.AckTimeout = 200 * time.Millisecond })
	// A stream that does not take the subject: the publish has no
	// responders, which the client retries until the ack timeout.
	require.NoError(t, js.DeleteStream(context.Background(), streams.EventsStream))
	resp := e.post(t, `{"type":"heartbeat","widget_id":"w","visitor_id":"v"}`)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "2", resp.Header.Get("Retry-After"))
}

func TestTicksReachEveryPartition(t *testing.T) {
	e := newEnv(t, func(c *ingest.Config) { c.TickInterval = 10 * time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.svc.Run(ctx) }()

	require.Eventually(t, func() bool {
		seen := map[string]bool{}
		for _, m := range stored(t, e.js, true) {
			seen[m.Subject] = true
		}
		return len(seen) == testPartitions
	}, 5*time.Second, 20*time.Millisecond)
	cancel()
	require.NoError(t, <-done)

	for _, m := range stored(t, e.js, true) {
		assert.Equal(t, schemas.Event{Type: schemas.Tick, TS: t0.UnixMilli()}, m.Event)
		assert.Contains(t, []string{streams.TickSubject(0), streams.TickSubject(1), streams.TickSubject(2), streams.TickSubject(3)}, m.Subject)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, func(c *ingest.Config) { c.Registerer = reg })
	require.Equal(t, http.StatusNoContent, e.post(t, `[{"type":"leave","widget_id":"w","visitor_id":"v"},{"type":"leave","widget_id":"w","visitor_id":"v"}]`).StatusCode)
	require.Equal(t, http.StatusBadRequest, e.post(t, `{"type":"leave","widget_id":"w"}`).StatusCode)

	assert.Equal(t, 2.0, metricValue(t, reg, "beckon_ingest_events_accepted_total", ""))
	assert.Equal(t, 1.0, metricValue(t, reg, "beckon_ingest_events_rejected_total", "missing"))
	assert.Equal(t, 1.0, metricValue(t, reg, "beckon_ingest_requests_total", "204"))
	assert.Equal(t, 1.0, metricValue(t, reg, "beckon_ingest_requests_total", "400"))
	assert.Equal(t, 1.0, metricValue(t, reg, "beckon_ingest_publish_seconds", ""), "one observation")

	_, err := ingest.New(ingest.Config{JetStream: e.js, Partitions: 1, Registerer: reg})
	assert.Error(t, err, "registering twice is refused")
}

func TestNewRejectsBadConfig(t *testing.T) {
	js := testenv.StartJetStream(t).JS
	for name, cfg := range map[string]ingest.Config{
		"no JetStream":      {Partitions: 1},
		"no partitions":     {JetStream: js},
		"burst below batch": {JetStream: js, Partitions: 1, RateBurst: 5, MaxBatch: 10},
	} {
		_, err := ingest.New(cfg)
		assert.ErrorIs(t, err, ingest.ErrInvalidConfig, name)
	}
}
