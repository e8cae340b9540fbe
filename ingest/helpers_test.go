package ingest_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/beckon-chat/beckon/ingest"
	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/internal/testenv"
	"github.com/beckon-chat/beckon/schemas"
)

// t0 is the fake clock's start: 2026-11-23T10:00:00.000Z.
var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

const testPartitions = 4

// fakeClock is a clock that moves only when told.
type fakeClock struct{ ms atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ms.Store(t0.UnixMilli())
	return c
}
func (c *fakeClock) Now() time.Time               { return time.UnixMilli(c.ms.Load()) }
func (c *fakeClock) Advance(d time.Duration)      { c.ms.Add(d.Milliseconds()) }
func (c *fakeClock) Millis() int64                { return c.ms.Load() }
func (c *fakeClock) Set(t time.Time) (prev int64) { return c.ms.Swap(t.UnixMilli()) }

// env is an ingest service on a real HTTP server in front of a real
// embedded JetStream.
type env struct {
	js    jetstream.JetStream
	svc   *ingest.Service
	srv   *httptest.Server
	clock *fakeClock
}

// ensureStreams creates the streams as `beckon serve` does.
func ensureStreams(t testing.TB, js jetstream.JetStream) int {
	t.Helper()
	n, err := streams.EnsureEvents(context.Background(), js, streams.EventsConfig{Partitions: testPartitions})
	require.NoError(t, err)
	require.NoError(t, streams.EnsureInvitations(context.Background(), js, streams.InvitationsConfig{}))
	return n
}

// newEnv starts everything; configure adjusts the Config before New.
func newEnv(t testing.TB, configure func(*ingest.Config)) *env {
	t.Helper()
	js := testenv.StartJetStream(t).JS
	return newEnvWith(t, js, configure)
}

func newEnvWith(t testing.TB, js jetstream.JetStream, configure func(*ingest.Config)) *env {
	t.Helper()
	n := ensureStreams(t, js)
	clock := newFakeClock()
	cfg := ingest.Config{JetStream: js, Partitions: n, Clock: clock.Now, AllowAnyOrigin: true,
		Logger: slog.New(slog.DiscardHandler)}
	if configure != nil {
		configure(&cfg)
	}
	svc, err := ingest.New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(srv.Close)
	return &env{js: js, svc: svc, srv: srv, clock: clock}
}

// post sends body to /v1/events with the given headers ("k: v").
func (e *env) post(t testing.TB, body string, headers ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/events", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8") // as sendBeacon sends it
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := e.srv.Client().Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// problem reads a JSON error body.
func problem(t testing.TB, resp *http.Response) ingest.Problem {
	t.Helper()
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var p ingest.Problem
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&p))
	return p
}

// storedMsg is a message of the events stream, decoded.
type storedMsg struct {
	Subject string
	MsgID   string
	Event   schemas.Event
}

// stored reads the whole events stream, ticks included when ticks is true.
func stored(t testing.TB, js jetstream.JetStream, ticks bool) []storedMsg {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, streams.EventsStream)
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	var out []storedMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		require.NoError(t, err)
		var ev schemas.Event
		require.NoError(t, msgpack.Unmarshal(m.Data, &ev))
		if ev.Type == schemas.Tick && !ticks {
			continue
		}
		out = append(out, storedMsg{Subject: m.Subject, MsgID: m.Header.Get(jetstream.MsgIDHeader), Event: ev})
	}
	return out
}

func readAll(t testing.TB, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	return string(b)
}

// metricValue reads a counter's value or a histogram's count from a
// registry; label selects the series of a vector by its one label value.
func metricValue(t testing.TB, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label != "" && (len(m.GetLabel()) == 0 || m.GetLabel()[0].GetValue() != label) {
				continue
			}
			if h := m.GetHistogram(); h != nil {
				return float64(h.GetSampleCount())
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no series %s{%s}", name, label)
	return 0
}
