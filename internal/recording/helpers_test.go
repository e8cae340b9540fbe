package recording_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/beckon-chat/beckon/internal/recording"
	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/internal/testenv"
	"github.com/beckon-chat/beckon/schemas"
)

const partitions = 4

// startStreams starts an embedded JetStream with both streams, the events
// stream with a few partitions.
func startStreams(t *testing.T) jetstream.JetStream {
	t.Helper()
	return startStreamsWith(t, partitions)
}

func startStreamsWith(t testing.TB, parts int) jetstream.JetStream {
	t.Helper()
	js := testenv.StartJetStream(t).JS
	n, err := streams.EnsureEvents(context.Background(), js, streams.EventsConfig{Partitions: parts})
	require.NoError(t, err)
	require.Equal(t, parts, n)
	require.NoError(t, streams.EnsureInvitations(context.Background(), js, streams.InvitationsConfig{}))
	return js
}

// ndjson joins lines into a recording.
func ndjson(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// parseEvents decodes a recording, failing the test on a bad line.
func parseEvents(t *testing.T, s string) []schemas.Event {
	t.Helper()
	var out []schemas.Event
	var dec schemas.Decoder
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		if line == "" {
			continue
		}
		var ev schemas.Event
		require.NoError(t, dec.DecodeEvent([]byte(line), &ev), line)
		out = append(out, ev)
	}
	return out
}

// record runs Record into a string.
func record(t *testing.T, js jetstream.JetStream, cfg recording.RecordConfig) (string, recording.RecordStats) {
	t.Helper()
	var buf bytes.Buffer
	st, err := recording.Record(context.Background(), js, cfg, &buf)
	require.NoError(t, err)
	return buf.String(), st
}

// replayMax replays a recording as fast as possible.
func replayMax(t *testing.T, js jetstream.JetStream, rec string) recording.ReplayStats {
	t.Helper()
	st, err := recording.Replay(context.Background(), js, recording.ReplayConfig{Name: "test.ndjson", Speed: recording.MaxSpeed}, strings.NewReader(rec))
	require.NoError(t, err)
	return st
}

// storedMsg is a message of the events stream as stored.
type storedMsg struct {
	Seq     uint64
	Subject string
	MsgID   string
	Event   schemas.Event
}

// storedEvents reads the whole events stream.
func storedEvents(t *testing.T, js jetstream.JetStream) []storedMsg {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, streams.EventsStream)
	require.NoError(t, err)
	var out []storedMsg
	for seq := uint64(1); seq <= s.CachedInfo().State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		require.NoError(t, err)
		sm := storedMsg{Seq: seq, Subject: m.Subject, MsgID: m.Header.Get(jetstream.MsgIDHeader)}
		require.NoError(t, msgpack.Unmarshal(m.Data, &sm.Event))
		out = append(out, sm)
	}
	return out
}

func ms(s string) int64 {
	v, ok := schemas.ParseTime([]byte(s))
	if !ok {
		panic(s)
	}
	return v
}

func at(s string) time.Time { return time.UnixMilli(ms(s)).UTC() }
