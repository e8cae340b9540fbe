package recording_test

import (
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/internal/recording"
	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/rules"
	"github.com/beckon-chat/beckon/schemas"
)

// smallRecording spans 2s, has five events of three visitors on two
// widgets, with and without ids, and no ticks.
var smallRecording = ndjson(
	`{"id":"e1","type":"page_view","widget_id":"shop","visitor_id":"v1","ts":"2026-11-23T10:00:00.000Z","url":"https://shop.example/pricing","referrer":"https://www.google.com/","title":"Pricing"}`,
	`{"type":"page_view","widget_id":"shop","visitor_id":"v2","ts":"2026-11-23T10:00:00.500Z","url":"https://shop.example/"}`,
	``,
	`{"id":"e3","type":"heartbeat","widget_id":"blog","visitor_id":"v1","ts":"2026-11-23T10:00:01.000Z","url":"https://blog.example/a","client_ts":"2026-11-23T09:59:59.000Z"}`,
	`{"type":"event","widget_id":"shop","visitor_id":"v1","ts":"2026-11-23T10:00:01.500Z","name":"payment_cancelled"}`,
	`{"type":"leave","widget_id":"shop","visitor_id":"v2","ts":"2026-11-23T10:00:02.000Z"}`,
)

var derivedID = regexp.MustCompile(`^r[0-9a-f]{32}$`)

func TestReplayThenRecordGivesBackTheEventsAndTheFinalTick(t *testing.T) {
	js := startStreams(t)
	st := replayMax(t, js, smallRecording)
	assert.Equal(t, 5, st.Events)
	assert.Equal(t, 1, st.Ticks, "at max speed only the final tick")
	assert.Equal(t, 5+partitions, st.Messages)
	assert.Equal(t, partitions, st.Partitions)
	assert.Zero(t, st.Duplicates)

	out, rst := record(t, js, recording.RecordConfig{})
	got := parseEvents(t, out)
	want := parseEvents(t, smallRecording)
	want = append(want, schemas.Event{Type: schemas.Tick, TS: ms("2026-11-23T10:30:02.000Z")})
	require.Len(t, got, len(want))
	for i := range want {
		if want[i].ID == "" && want[i].Type != schemas.Tick {
			assert.Regexp(t, derivedID, got[i].ID, "line without an id gets a derived one")
			want[i].ID = got[i].ID
		}
	}
	assert.Equal(t, want, got)
	assert.Equal(t, 5, rst.Events)
	assert.Equal(t, 1, rst.Ticks, "one line per tick instant, not one per partition")
	assert.Equal(t, 5+partitions, rst.Messages)
	assert.NotEqual(t, got[1].ID, got[3].ID)
}

func TestReplayPublishesEachEventToItsPartition(t *testing.T) {
	js := startStreams(t)
	replayMax(t, js, smallRecording)

	used := map[int]bool{}
	ticks := map[string]int{}
	for _, m := range storedEvents(t, js) {
		ev := m.Event
		if ev.Type == schemas.Tick {
			ticks[m.Subject]++
			assert.Equal(t, ms("2026-11-23T10:30:02.000Z"), ev.TS)
			continue
		}
		p := streams.Partition(ev.WidgetID, ev.VisitorID, partitions)
		used[p] = true
		assert.Equal(t, streams.EventSubject(p, ev.WidgetID, ev.VisitorID), m.Subject)
		assert.Equal(t, ev.ID, m.MsgID, "the event id is the de-duplication id")
	}
	assert.Greater(t, len(used), 1, "the recording's visitors span partitions")
	for p := range partitions {
		assert.Equal(t, 1, ticks[streams.TickSubject(p)], "the tick reaches partition %d", p)
	}
}

func TestReplayTwiceStoresEachEventOnce(t *testing.T) {
	js := startStreams(t)
	first := replayMax(t, js, smallRecording)
	before := storedEvents(t, js)

	second := replayMax(t, js, smallRecording)
	assert.Equal(t, first.Events, second.Events)
	assert.Equal(t, 5, second.Duplicates)
	assert.Equal(t, before, storedEvents(t, js), "nothing new is stored, ticks included")
}

func TestReplayInterruptedAndRunAgainStoresEachEventOnce(t *testing.T) {
	js := startStreams(t)
	// Stop mid-way: at speed 1 the third event is due at 1s, the fourth at 1.5s.
	ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
	defer cancel()
	st, err := recording.Replay(ctx, js, recording.ReplayConfig{TickInterval: -1}, strings.NewReader(smallRecording))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, st.Events, 5)
	require.Positive(t, st.Events)
	published := st.Events

	st = replayMax(t, js, smallRecording)
	assert.Equal(t, published, st.Duplicates)
	var events int
	for _, m := range storedEvents(t, js) {
		if m.Event.Type != schemas.Tick {
			events++
		}
	}
	assert.Equal(t, 5, events)
}

func TestReplayRebaseShiftsEveryTime(t *testing.T) {
	js := startStreams(t)
	cfg := recording.ReplayConfig{Speed: recording.MaxSpeed, RebaseTo: at("2030-01-01T00:00:00.000Z")}
	_, err := recording.Replay(context.Background(), js, cfg, strings.NewReader(smallRecording))
	require.NoError(t, err)

	got := parseEvents(t, must(record(t, js, recording.RecordConfig{})))
	want := parseEvents(t, smallRecording)
	shift := ms("2030-01-01T00:00:00.000Z") - ms("2026-11-23T10:00:00.000Z")
	for i := range want {
		assert.Equal(t, want[i].TS+shift, got[i].TS)
	}
	assert.Equal(t, ms("2030-01-01T00:00:00.000Z"), got[0].TS)
	assert.Equal(t, ms("2026-11-23T09:59:59.000Z")+shift, got[2].ClientTS, "client times move too")
	assert.Equal(t, ms("2030-01-01T00:30:02.000Z"), got[len(got)-1].TS)
}

func TestReplayRebaseNowStartsAtTheClock(t *testing.T) {
	js := startStreams(t)
	before := time.Now().UnixMilli()
	_, err := recording.Replay(context.Background(), js, recording.ReplayConfig{Speed: recording.MaxSpeed, RebaseNow: true, Tail: -1}, strings.NewReader(smallRecording))
	require.NoError(t, err)
	after := time.Now().UnixMilli()

	got := parseEvents(t, must(record(t, js, recording.RecordConfig{})))
	require.Len(t, got, 5, "no final tick with a negative tail")
	assert.GreaterOrEqual(t, got[0].TS, before)
	assert.LessOrEqual(t, got[0].TS, after)
	assert.Equal(t, got[0].TS+2000, got[4].TS)
}

func TestReplaySpeedPacesTheRecording(t *testing.T) {
	js := startStreams(t)
	start := time.Now()
	st, err := recording.Replay(context.Background(), js, recording.ReplayConfig{Speed: 10, Tail: -1}, strings.NewReader(smallRecording))
	require.NoError(t, err)
	took := time.Since(start)
	// 2s of recording at 10×: 0.2s, with room for a slow machine.
	assert.GreaterOrEqual(t, took, 190*time.Millisecond)
	assert.Less(t, took, 2*time.Second)
	// Generated ticks every 250ms of wall time: 2.5s of stream time.
	assert.Equal(t, 0, st.Ticks, "no grid point falls inside a 2s recording at 10×")
}

func TestReplayGeneratesTicksWhenTheRecordingHasNone(t *testing.T) {
	js := startStreams(t)
	cfg := recording.ReplayConfig{Speed: recording.MaxSpeed, TickInterval: 600 * time.Millisecond, Tail: 1500 * time.Millisecond}
	st, err := recording.Replay(context.Background(), js, cfg, strings.NewReader(smallRecording))
	require.NoError(t, err)

	var ticks []string
	for _, ev := range parseEvents(t, must(record(t, js, recording.RecordConfig{}))) {
		if ev.Type == schemas.Tick {
			ticks = append(ticks, schemas.FormatTime(ev.TS))
		}
	}
	// Every 600ms from the first event until the final tick at last + 1.5s.
	assert.Equal(t, []string{
		"2026-11-23T10:00:00.600Z", "2026-11-23T10:00:01.200Z", "2026-11-23T10:00:01.800Z",
		"2026-11-23T10:00:02.400Z", "2026-11-23T10:00:03.000Z", "2026-11-23T10:00:03.500Z",
	}, ticks)
	assert.Equal(t, 6, st.Ticks)
	assert.Equal(t, 5+6*partitions, st.Messages)
}

func TestReplayPublishesTheRecordingsOwnTicksToEveryPartition(t *testing.T) {
	js := startStreams(t)
	rec := ndjson(
		`{"type":"page_view","widget_id":"shop","visitor_id":"v1","ts":"2026-11-23T10:00:00.000Z","url":"https://shop.example/"}`,
		`{"type":"tick","ts":"2026-11-23T10:00:00.250Z"}`,
		`{"type":"tick","ts":"2026-11-23T10:00:00.500Z"}`,
		`{"type":"heartbeat","widget_id":"shop","visitor_id":"v1","ts":"2026-11-23T10:00:00.600Z"}`,
	)
	cfg := recording.ReplayConfig{Speed: recording.MaxSpeed, TickInterval: 100 * time.Millisecond, Tail: time.Second}
	st, err := recording.Replay(context.Background(), js, cfg, strings.NewReader(rec))
	require.NoError(t, err)
	assert.Equal(t, 3, st.Ticks, "its own two and the final one; none generated")

	perSubject := map[string]int{}
	for _, m := range storedEvents(t, js) {
		if m.Event.Type == schemas.Tick {
			perSubject[m.Subject]++
		}
	}
	for p := range partitions {
		assert.Equal(t, 3, perSubject[streams.TickSubject(p)])
	}
	got := parseEvents(t, must(record(t, js, recording.RecordConfig{})))
	want := parseEvents(t, rec)
	want = append(want, schemas.Event{Type: schemas.Tick, TS: ms("2026-11-23T10:00:01.600Z")})
	for i := range got {
		got[i].ID = ""
	}
	assert.Equal(t, want, got)
}

func TestReplayMalformedLineNamesTheLineAndPublishesNothing(t *testing.T) {
	good := `{"type":"page_view","widget_id":"shop","visitor_id":"v1","ts":"2026-11-23T10:00:00.000Z","url":"https://shop.example/"}`
	tests := []struct {
		name string
		line string
		want error
		msg  string
	}{
		{"syntax", `{"type":"page_view",`, schemas.ErrSyntax, "bad.ndjson:3: "},
		{"missing ts", `{"type":"heartbeat","widget_id":"shop","visitor_id":"v1"}`, schemas.ErrMissing, `bad.ndjson:3: field "ts": is required`},
		{"bad visitor", `{"type":"heartbeat","widget_id":"shop","visitor_id":"v.1","ts":"2026-11-23T10:00:01.000Z"}`, schemas.ErrInvalid, `bad.ndjson:3: field "visitor_id"`},
		{"bad time", `{"type":"heartbeat","widget_id":"shop","visitor_id":"v1","ts":"yesterday"}`, schemas.ErrInvalid, `bad.ndjson:3: field "ts"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js := startStreams(t)
			rec := ndjson(good, good, tt.line, good)
			_, err := recording.Replay(context.Background(), js, recording.ReplayConfig{Name: "bad.ndjson", Speed: recording.MaxSpeed}, strings.NewReader(rec))
			require.Error(t, err)
			var le *schemas.LineError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, 3, le.Line)
			assert.ErrorIs(t, err, schemas.ErrMalformedLine)
			assert.ErrorIs(t, err, tt.want)
			assert.Contains(t, err.Error(), tt.msg)
			assert.Empty(t, storedEvents(t, js), "nothing is published")
		})
	}
}

func TestReplayReadsAPipe(t *testing.T) {
	js := startStreams(t)
	// A reader that cannot seek, as stdin: spooled for the two passes.
	r := io.MultiReader(strings.NewReader(smallRecording))
	var calls, last int
	cfg := recording.ReplayConfig{Speed: recording.MaxSpeed, Progress: func(done, total int) { calls++; last = done; assert.Equal(t, 5, total) }}
	st, err := recording.Replay(context.Background(), js, cfg, r)
	require.NoError(t, err)
	assert.Equal(t, 5, st.Events)
	assert.Equal(t, 6, st.Lines)
	assert.Equal(t, 1, calls)
	assert.Equal(t, 5, last)
}

func TestReplayRejectsInvalidConfig(t *testing.T) {
	js := startStreams(t)
	for _, cfg := range []recording.ReplayConfig{
		{Speed: -1},
		{RebaseNow: true, RebaseTo: time.Now()},
	} {
		_, err := recording.Replay(context.Background(), js, cfg, strings.NewReader(smallRecording))
		assert.ErrorIs(t, err, recording.ErrInvalidConfig)
	}
}

func TestTailForIsTheLongestPresenceTimeoutAndAMillisecond(t *testing.T) {
	set, err := rules.Parse([]byte(`
widgets:
  - id: a
    presence_timeout: 45s
    rules:
      - {id: r, invitation: {department: d, prompt: p}, conditions: [{variable: time_on_page, operator: gt, value: 1}]}
  - id: b
    rules:
      - {id: r, invitation: {department: d, prompt: p}, conditions: [{variable: time_on_page, operator: gt, value: 1}]}
`), "rules.yaml")
	require.NoError(t, err)
	assert.Equal(t, 45*time.Second+time.Millisecond, recording.TailFor(set))
}

func must[T any](v T, _ ...any) T { return v }

func TestReplayRebasedElsewhereIsNewTrafficButKeepsGivenIDs(t *testing.T) {
	js := startStreams(t)
	for i, to := range []string{"2030-01-01T00:00:00.000Z", "2030-01-01T01:00:00.000Z"} {
		cfg := recording.ReplayConfig{Speed: recording.MaxSpeed, RebaseTo: at(to)}
		st, err := recording.Replay(context.Background(), js, cfg, strings.NewReader(smallRecording))
		require.NoError(t, err)
		assert.Equal(t, 2*i, st.Duplicates, "run %d: the lines with ids (e1, e3) are the same events", i)
	}
	// Rebased to the same instant again: all the same events.
	cfg := recording.ReplayConfig{Speed: recording.MaxSpeed, RebaseTo: at("2030-01-01T00:00:00.000Z")}
	st, err := recording.Replay(context.Background(), js, cfg, strings.NewReader(smallRecording))
	require.NoError(t, err)
	assert.Equal(t, 5, st.Duplicates)
}
