package sink_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/internal/testenv"
	"github.com/beckon-chat/beckon/schemas"
	"github.com/beckon-chat/beckon/sink"
)

// createInvitations makes the stream as streams.EnsureInvitations does.
func createInvitations(t *testing.T, js jetstream.JetStream) jetstream.Stream {
	t.Helper()
	s, err := js.CreateOrUpdateStream(context.Background(), jetstream.StreamConfig{
		Name:       streams.InvitationsStream,
		Subjects:   []string{streams.InvitationsPrefix + ".>"},
		Storage:    jetstream.FileStorage,
		MaxAge:     time.Hour,
		Duplicates: time.Hour,
	})
	require.NoError(t, err)
	return s
}

func invitation(id, visitor string) schemas.Invitation {
	return schemas.Invitation{
		InvitationID: id, WidgetID: "acme", VisitorID: visitor, SessionID: "s1",
		RuleID: "pricing-help", RuleName: "Invitation to buy", Department: "sales",
		Title: "Let us help you", Prompt: "Need help?", ImageURL: "https://acme.example/a.png",
		At: 1795428000000, Trigger: schemas.TriggerTimer, PageURL: "https://acme.example/pricing",
	}
}

func newSink(t *testing.T, cfg sink.Config) *sink.Sink {
	t.Helper()
	s, err := sink.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestPublishedInvitationsDecodeBack(t *testing.T) {
	env := testenv.StartJetStream(t)
	stream := createInvitations(t, env.JS)
	reg := prometheus.NewRegistry()
	s := newSink(t, sink.Config{Conn: env.Conn, Registerer: reg})
	want := []schemas.Invitation{invitation("inv-1", "v1"), invitation("inv-2", "v2")}

	require.NoError(t, s.Publish(context.Background(), want))

	for _, w := range want {
		// Different visitors' invitations are published at once, in any order.
		msg, err := stream.GetLastMsgForSubject(context.Background(), streams.InvitationSubject(w.WidgetID, w.VisitorID))
		require.NoError(t, err)
		assert.Equal(t, streams.InvitationSubject(w.WidgetID, w.VisitorID), msg.Subject)
		assert.Equal(t, w.InvitationID, msg.Header.Get(nats.MsgIdHdr))
		var got schemas.Invitation
		require.NoError(t, msgpack.Unmarshal(msg.Data, &got))
		assert.Equal(t, w, got)
	}
	assert.Equal(t, 2.0, counterValue(t, reg, "beckon_invitations_published_total"))
}

func TestEachVisitorsInvitationsKeepTheirOrder(t *testing.T) {
	env := testenv.StartJetStream(t)
	stream := createInvitations(t, env.JS)
	s := newSink(t, sink.Config{Conn: env.Conn})
	var batch []schemas.Invitation
	for i := range 3 {
		for v := range 100 {
			batch = append(batch, invitation(fmt.Sprintf("inv-%d-%d", v, i), fmt.Sprintf("v%d", v)))
		}
	}
	require.NoError(t, s.Publish(context.Background(), batch))

	info, err := stream.Info(context.Background())
	require.NoError(t, err)
	require.Equal(t, uint64(len(batch)), info.State.Msgs)
	next := map[string]int{} // visitor → the index of its next invitation
	for seq := uint64(1); seq <= info.State.LastSeq; seq++ {
		msg, err := stream.GetMsg(context.Background(), seq)
		require.NoError(t, err)
		var got schemas.Invitation
		require.NoError(t, schemas.UnmarshalInvitation(msg.Data, &got))
		assert.Equal(t, fmt.Sprintf("inv-%s-%d", got.VisitorID[1:], next[got.VisitorID]), got.InvitationID)
		next[got.VisitorID]++
	}
}

// counterValue reads a counter from a registry, as a scrape would.
func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

func TestPublishingTwiceStoresOnce(t *testing.T) {
	env := testenv.StartJetStream(t)
	stream := createInvitations(t, env.JS)
	s := newSink(t, sink.Config{Conn: env.Conn})
	inv := []schemas.Invitation{invitation("inv-1", "v1")}

	require.NoError(t, s.Publish(context.Background(), inv))
	require.NoError(t, s.Publish(context.Background(), inv))

	info, err := stream.Info(context.Background())
	require.NoError(t, err)
	assert.Equal(t, uint64(1), info.State.Msgs)
}

func TestPublishRejectsInvalidInvitations(t *testing.T) {
	env := testenv.StartJetStream(t)
	stream := createInvitations(t, env.JS)
	s := newSink(t, sink.Config{Conn: env.Conn})
	for name, mutate := range map[string]func(*schemas.Invitation){
		"no id":             func(i *schemas.Invitation) { i.InvitationID = "" },
		"subject injection": func(i *schemas.Invitation) { i.VisitorID = "v1.>" },
		"empty widget":      func(i *schemas.Invitation) { i.WidgetID = "" },
	} {
		t.Run(name, func(t *testing.T) {
			good, bad := invitation("ok", "v1"), invitation("bad", "v2")
			mutate(&bad)
			err := s.Publish(context.Background(), []schemas.Invitation{good, bad})
			assert.ErrorIs(t, err, sink.ErrInvalidInvitation)
		})
	}
	info, err := stream.Info(context.Background())
	require.NoError(t, err)
	assert.Zero(t, info.State.Msgs, "a bad invitation publishes none of its batch")
}

func TestPublishSurvivesServerRestart(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	listen := fmt.Sprintf("127.0.0.1:%d", port)
	env := testenv.StartJetStreamIn(t, dir, listen)
	createInvitations(t, env.JS)
	nc, err := nats.Connect(env.URL, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	s := newSink(t, sink.Config{Conn: nc, MaxRetries: -1, InitialBackoff: 20 * time.Millisecond,
		MaxBackoff: 200 * time.Millisecond, AckTimeout: 300 * time.Millisecond})

	env.Server.Shutdown()
	env.Server.WaitForShutdown()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Publish(ctx, []schemas.Invitation{invitation("inv-1", "v1")}) }()
	time.Sleep(700 * time.Millisecond) // several failed attempts
	select {
	case err := <-done:
		t.Fatalf("Publish returned while the server was down: %v", err)
	default:
	}

	env2 := testenv.StartJetStreamIn(t, dir, listen)
	require.NoError(t, <-done)
	stream, err := env2.JS.Stream(context.Background(), streams.InvitationsStream)
	require.NoError(t, err)
	info, err := stream.Info(context.Background())
	require.NoError(t, err)
	assert.Equal(t, uint64(1), info.State.Msgs)
}

func TestPublishGivesUpAfterMaxRetries(t *testing.T) {
	env := testenv.StartJetStream(t) // no stream: every publish has no responders
	s := newSink(t, sink.Config{Conn: env.Conn, MaxRetries: 2, InitialBackoff: time.Millisecond, AckTimeout: 200 * time.Millisecond})
	err := s.Publish(context.Background(), []schemas.Invitation{invitation("inv-1", "v1")})
	assert.ErrorIs(t, err, sink.ErrRetriesExhausted)
}

func TestPublishStopsWhenContextDone(t *testing.T) {
	env := testenv.StartJetStream(t)
	s := newSink(t, sink.Config{Conn: env.Conn, MaxRetries: -1, InitialBackoff: 10 * time.Millisecond, AckTimeout: 100 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := s.Publish(ctx, []schemas.Invitation{invitation("inv-1", "v1")})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestPublishAfterCloseFails(t *testing.T) {
	env := testenv.StartJetStream(t)
	s := newSink(t, sink.Config{Conn: env.Conn})
	require.NoError(t, s.Close())
	assert.ErrorIs(t, s.Publish(context.Background(), nil), sink.ErrClosed)
	assert.False(t, env.Conn.IsClosed(), "the caller owns the connection")
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
