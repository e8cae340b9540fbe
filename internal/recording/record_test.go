package recording_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/beckon-chat/beckon/internal/recording"
	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/internal/testenv"
	"github.com/beckon-chat/beckon/schemas"
)

// brief names the lines of a recording: "visitor-widget@ms-of-the-minute"
// or "tick".
func brief(t *testing.T, rec string) []string {
	t.Helper()
	var out []string
	for _, ev := range parseEvents(t, rec) {
		if ev.Type == schemas.Tick {
			out = append(out, "tick")
			continue
		}
		out = append(out, fmt.Sprintf("%s-%s@%d", ev.WidgetID, ev.VisitorID, ev.TS%60000))
	}
	return out
}

func TestRecordFilters(t *testing.T) {
	js := startStreams(t)
	replayMax(t, js, smallRecording) // events are sequences 1-5, the final tick 6-9

	pos := func(s string) recording.Position {
		p, err := recording.ParsePosition(s)
		require.NoError(t, err)
		return p
	}
	tests := []struct {
		name string
		cfg  recording.RecordConfig
		want []string
	}{
		{"everything", recording.RecordConfig{}, []string{"shop-v1@0", "shop-v2@500", "blog-v1@1000", "shop-v1@1500", "shop-v2@2000", "tick"}},
		{"since sequence", recording.RecordConfig{Since: pos("3")}, []string{"blog-v1@1000", "shop-v1@1500", "shop-v2@2000", "tick"}},
		{"until sequence", recording.RecordConfig{Until: pos("2")}, []string{"shop-v1@0", "shop-v2@500"}},
		{"sequence range", recording.RecordConfig{Since: pos("2"), Until: pos("4")}, []string{"shop-v2@500", "blog-v1@1000", "shop-v1@1500"}},
		{"since time", recording.RecordConfig{Since: pos("2026-11-23T10:00:01Z")}, []string{"blog-v1@1000", "shop-v1@1500", "shop-v2@2000", "tick"}},
		{"until time", recording.RecordConfig{Until: pos("2026-11-23T10:00:01.000Z")}, []string{"shop-v1@0", "shop-v2@500", "blog-v1@1000"}},
		{"time with offset", recording.RecordConfig{Since: pos("2026-11-23T11:00:01.200+01:00"), Until: pos("2026-11-23T10:00:01.500Z")}, []string{"shop-v1@1500"}},
		{"widget keeps the ticks", recording.RecordConfig{Widget: "shop"}, []string{"shop-v1@0", "shop-v2@500", "shop-v1@1500", "shop-v2@2000", "tick"}},
		{"widget and sequence", recording.RecordConfig{Widget: "blog", Until: pos("5")}, []string{"blog-v1@1000"}},
		{"widget with no events", recording.RecordConfig{Widget: "nobody"}, []string{"tick"}},
		{"past the end", recording.RecordConfig{Since: pos("100")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, st := record(t, js, tt.cfg)
			assert.Equal(t, tt.want, brief(t, out))
			assert.Equal(t, len(tt.want), st.Lines())
		})
	}
}

func TestRecordEmptyStreamWritesNothing(t *testing.T) {
	js := startStreams(t)
	for _, src := range []recording.Source{recording.Events, recording.Invitations} {
		out, st := record(t, js, recording.RecordConfig{Source: src})
		assert.Empty(t, out)
		assert.Zero(t, st.Messages)
	}
}

// publishInvitations stores invitations as the sink does.
func publishInvitations(t *testing.T, js jetstream.JetStream, invs []schemas.Invitation) {
	t.Helper()
	for i := range invs {
		body, err := msgpack.Marshal(&invs[i])
		require.NoError(t, err)
		_, err = js.Publish(context.Background(), streams.InvitationSubject(invs[i].WidgetID, invs[i].VisitorID), body,
			jetstream.WithMsgID(invs[i].InvitationID))
		require.NoError(t, err)
	}
}

func invitation(id, widget, visitor, rule, atTime string) schemas.Invitation {
	return schemas.Invitation{
		InvitationID: id, WidgetID: widget, VisitorID: visitor, SessionID: "s-" + visitor,
		RuleID: rule, RuleName: "Rule " + rule, Department: "sales", Title: "Hello",
		Prompt: "Need help?", ImageURL: "https://x.example/a.png", At: ms(atTime),
		Trigger: schemas.TriggerTimer, PageURL: "https://x.example/pricing",
	}
}

func TestRecordInvitationsWritesTheirJSON(t *testing.T) {
	js := startStreams(t)
	invs := []schemas.Invitation{
		invitation("i3", "shop", "v2", "late", "2026-11-23T10:00:30.000Z"),
		invitation("i1", "shop", "v1", "pricing", "2026-11-23T10:00:20.000Z"),
		invitation("i2", "blog", "v9", "pricing", "2026-11-23T10:00:20.000Z"),
		invitation("i4", "shop", "v1", "again", "2026-11-23T10:00:20.000Z"),
	}
	publishInvitations(t, js, invs)
	publishInvitations(t, js, invs[:1]) // a re-publication after a restart: dropped

	lines := func(order ...int) string {
		var b []byte
		for _, i := range order {
			b = schemas.AppendInvitationJSON(b, &invs[i])
			b = append(b, '\n')
		}
		return string(b)
	}
	tests := []struct {
		name string
		cfg  recording.RecordConfig
		want string
	}{
		{"stream order", recording.RecordConfig{}, lines(0, 1, 2, 3)},
		{"sorted by at, widget, visitor, rule", recording.RecordConfig{Sort: true}, lines(2, 3, 1, 0)},
		{"widget", recording.RecordConfig{Widget: "shop"}, lines(0, 1, 3)},
		{"since at", recording.RecordConfig{Since: recording.Position{Time: at("2026-11-23T10:00:21.000Z")}}, lines(0)},
		{"until sequence", recording.RecordConfig{Until: recording.Position{Seq: 2}, Sort: true}, lines(1, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Source = recording.Invitations
			out, st := record(t, js, tt.cfg)
			assert.Equal(t, tt.want, out)
			assert.Equal(t, strings.Count(tt.want, "\n"), st.Invitations)
		})
	}
}

// syncBuffer is a bytes.Buffer that a following Record writes while the
// test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRecordFollowWritesNewEventsUntilCancelled(t *testing.T) {
	js := startStreams(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	type result struct {
		st  recording.RecordStats
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := recording.Record(ctx, js, recording.RecordConfig{Follow: true, Widget: "shop"}, &out)
		done <- result{st, err}
	}()

	replayMax(t, js, smallRecording)
	require.Eventually(t, func() bool { return strings.Count(out.String(), "\n") == 5 }, 5*time.Second, 10*time.Millisecond,
		"the four shop events and the tick are written as they arrive")
	cancel()
	res := <-done
	require.NoError(t, res.err, "cancelling is how a follow ends")
	assert.Equal(t, 4, res.st.Events)
	assert.Equal(t, 1, res.st.Ticks)
}

func TestRecordFollowStopsAfterATimeUntil(t *testing.T) {
	js := startStreams(t)
	until := time.Now().Add(200 * time.Millisecond)
	start := time.Now()
	st, err := recording.Record(context.Background(), js, recording.RecordConfig{Follow: true, Until: recording.Position{Time: until}}, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Zero(t, st.Messages)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestRecordMissingStream(t *testing.T) {
	js := testenv.StartJetStream(t).JS
	_, err := recording.Record(context.Background(), js, recording.RecordConfig{Source: recording.Invitations}, &bytes.Buffer{})
	assert.ErrorIs(t, err, streams.ErrStreamMissing)
}

func TestRecordRejectsInvalidConfig(t *testing.T) {
	js := startStreams(t)
	for _, cfg := range []recording.RecordConfig{
		{Source: "clicks"},
		{Sort: true},
		{Source: recording.Invitations, Sort: true, Follow: true},
		{Widget: "a.b"},
		{Since: recording.Position{Seq: 5}, Until: recording.Position{Seq: 4}},
	} {
		_, err := recording.Record(context.Background(), js, cfg, &bytes.Buffer{})
		assert.ErrorIs(t, err, recording.ErrInvalidConfig, "%+v", cfg)
	}
}

func TestParsePosition(t *testing.T) {
	tests := []struct {
		in   string
		want recording.Position
		err  bool
	}{
		{"", recording.Position{}, false},
		{"42", recording.Position{Seq: 42}, false},
		{"2026-11-23T10:00:00Z", recording.Position{Time: at("2026-11-23T10:00:00.000Z")}, false},
		{"2026-11-23T10:00:00.123456Z", recording.Position{Time: at("2026-11-23T10:00:00.123Z")}, false},
		{"0", recording.Position{}, true},
		{"yesterday", recording.Position{}, true},
		{"-3", recording.Position{}, true},
	}
	for _, tt := range tests {
		got, err := recording.ParsePosition(tt.in)
		if tt.err {
			assert.ErrorIs(t, err, recording.ErrInvalidConfig, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.True(t, tt.want.Time.Equal(got.Time) && tt.want.Seq == got.Seq, "%s: got %v", tt.in, got)
	}
}
