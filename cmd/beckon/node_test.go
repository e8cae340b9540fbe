package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/internal/recording"
	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/internal/testenv"
	"github.com/beckon-chat/beckon/processor"
	"github.com/beckon-chat/beckon/rules"
	"github.com/beckon-chat/beckon/schemas"
)

// fakeClock is ingest's clock in tests that send recorded events at their
// recorded times.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// startNode runs every role of `beckon serve` on an embedded JetStream and a
// loopback port, as serve does, and returns the HTTP base URL.
func startNode(t *testing.T, env *testenv.JetStream, set *rules.Set, configure func(*node)) string {
	t.Helper()
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	n := &node{
		ingest: true, process: true, gateway: true, demo: true, partitions: 4,
		secret: secret, rules: set, log: slog.New(slog.DiscardHandler),
	}
	if configure != nil {
		configure(n)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.run(ctx, env.Conn, env.JS, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err, "the node stops cleanly")
		case <-time.After(30 * time.Second):
			t.Error("the node did not stop")
		}
	})
	base := "http://" + ln.Addr().String()
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond)
	return base
}

func postEvent(t *testing.T, base string, body []byte) {
	t.Helper()
	resp, err := http.Post(base+"/v1/events", "text/plain;charset=UTF-8", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode, "POST %s", body)
}

// recordInvitations reads the invitations stream as `beckon record
// invitations --sort` does.
func recordInvitations(t *testing.T, js jetstream.JetStream) string {
	t.Helper()
	var out bytes.Buffer
	_, err := recording.Record(context.Background(), js, recording.RecordConfig{Source: recording.Invitations, Sort: true}, &out)
	require.NoError(t, err)
	return out.String()
}

// sortedEval runs eval and sorts its invitations as record --sort does.
func sortedEval(t *testing.T, set *rules.Set, events string) string {
	t.Helper()
	var out bytes.Buffer
	_, err := processor.Eval(set, strings.NewReader(events), "events", &out)
	require.NoError(t, err)
	var invs []schemas.Invitation
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if line == "" {
			continue
		}
		var inv schemas.Invitation
		require.NoError(t, inv.UnmarshalJSON([]byte(line)))
		invs = append(invs, inv)
	}
	slices.SortFunc(invs, recording.CompareInvitations)
	var b []byte
	for i := range invs {
		b = schemas.AppendInvitationJSON(b, &invs[i])
		b = append(b, '\n')
	}
	return string(b)
}

// TestBeaconsGiveEvalInvitations sends each shared example through the live
// pipeline — HTTP beacons into ingest (its clock set to each event's
// recorded time), partitioned processors, sink — and compares the
// invitations stream with `beckon eval` of the same recording, ids included.
func TestBeaconsGiveEvalInvitations(t *testing.T) {
	for _, dir := range testenv.Examples(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			set, err := rules.Load(filepath.Join(dir, "rules.yaml"))
			require.NoError(t, err)
			events, err := os.ReadFile(filepath.Join(dir, "events.ndjson"))
			require.NoError(t, err)
			want := sortedEval(t, set, string(events))

			env := testenv.StartJetStream(t)
			clock := &fakeClock{}
			var dec schemas.Decoder
			var first schemas.Event
			require.NoError(t, dec.DecodeEvent(bytes.SplitN(events, []byte("\n"), 2)[0], &first))
			clock.Set(time.UnixMilli(first.TS))
			base := startNode(t, env, set, func(n *node) { n.clock = clock.Now })

			var last int64
			for _, line := range bytes.Split(bytes.TrimSpace(events), []byte("\n")) {
				var ev schemas.Event
				require.NoError(t, dec.DecodeEvent(line, &ev))
				clock.Set(time.UnixMilli(ev.TS))
				postEvent(t, base, line)
				last = ev.TS
			}
			// Time passes with no more beacons: ingest's ticks carry it past
			// every presence window, as the end of a recording does in eval.
			clock.Set(time.UnixMilli(last).Add(time.Hour))
			time.Sleep(600 * time.Millisecond)
			require.NoError(t, streams.WaitProcessed(context.Background(), env.JS))
			assert.Equal(t, want, recordInvitations(t, env.JS))
		})
	}
}

// TestTimerFiresWithinOneSecondLive: with the real clock, a time-based rule
// fires promptly when the visitor sends nothing more (SPEC §6). The tight
// figure is in the benchmarks; this asserts the contract.
func TestTimerFiresWithinOneSecondLive(t *testing.T) {
	set, err := rules.Parse([]byte(`widgets:
- id: shop
  rules:
  - id: soon
    invitation: {department: sales, prompt: Hi}
    conditions:
    - {variable: time_on_page, operator: gte, value: 1.5}
`), "soon.yaml")
	require.NoError(t, err)
	env := testenv.StartJetStream(t)
	base := startNode(t, env, set, nil)
	got := make(chan schemas.Invitation, 1)
	sub, err := env.Conn.Subscribe(streams.InvitationsPrefix+".>", func(m *nats.Msg) {
		var inv schemas.Invitation
		if schemas.UnmarshalInvitation(m.Data, &inv) == nil {
			got <- inv
		}
	})
	require.NoError(t, err)
	defer sub.Unsubscribe()
	postEvent(t, base, []byte(`{"type":"page_view","widget_id":"shop","visitor_id":"v1","url":"https://shop.example/pricing"}`))
	select {
	case inv := <-got:
		late := time.Since(time.UnixMilli(inv.At))
		t.Logf("timer invitation received %v after its instant", late)
		assert.Equal(t, schemas.TriggerTimer, inv.Trigger)
		assert.Less(t, late, time.Second, "a timer fires within one second of its instant")
	case <-time.After(10 * time.Second):
		t.Fatal("no invitation")
	}
}
