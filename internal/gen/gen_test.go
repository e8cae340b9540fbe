package gen

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/schemas"
)

func ndjson(t *testing.T, cfg Config) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := WriteNDJSON(&buf, cfg)
	require.NoError(t, err)
	require.Equal(t, n, bytes.Count(buf.Bytes(), []byte("\n")))
	return buf.Bytes()
}

func collect(t *testing.T, cfg Config) []schemas.Event {
	t.Helper()
	var evs []schemas.Event
	require.NoError(t, Generate(cfg, func(ev *schemas.Event) error {
		evs = append(evs, *ev)
		return nil
	}))
	return evs
}

func TestSameSeedGivesIdenticalBytes(t *testing.T) {
	cfg := Config{Seed: 7, Visitors: 200, Events: 20000, TickEvery: time.Second}
	a := ndjson(t, cfg)
	b := ndjson(t, cfg)
	assert.Equal(t, a, b)

	cfg.Seed = 8
	assert.NotEqual(t, a, ndjson(t, cfg))
}

func TestGenerateStopsAfterEvents(t *testing.T) {
	for _, n := range []int{1, 10, 12345} {
		assert.Len(t, collect(t, Config{Seed: 1, Visitors: 10, Events: n}), n)
	}
}

func TestGenerateWithoutEventsEndsWhenVisitorsAreDone(t *testing.T) {
	evs := collect(t, Config{Seed: 3, Visitors: 50, TickEvery: 5 * time.Second})
	require.NotEmpty(t, evs)
	seen := map[string]bool{}
	for _, ev := range evs {
		if ev.Type != schemas.Tick {
			seen[ev.VisitorID] = true
		}
	}
	assert.Len(t, seen, 50)
}

func TestEventsAreValidAndInTimeOrder(t *testing.T) {
	cfg := Config{Seed: 42, Visitors: 300, Events: 50000, TickEvery: 2 * time.Second}
	var d schemas.Decoder
	var ev schemas.Event
	sc := bufio.NewScanner(bytes.NewReader(ndjson(t, cfg)))
	var last int64
	ids := map[string]bool{}
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC).UnixMilli()
	for line := 1; sc.Scan(); line++ {
		require.NoError(t, d.DecodeEvent(sc.Bytes(), &ev), "line %d", line)
		require.NoError(t, ev.Validate(true), "line %d: %s", line, sc.Bytes())
		require.GreaterOrEqual(t, ev.TS, last, "line %d: time went back", line)
		require.GreaterOrEqual(t, ev.TS, start)
		last = ev.TS
		if ev.Type == schemas.Tick {
			assert.Equal(t, schemas.Event{Type: schemas.Tick, TS: ev.TS}, ev, "a tick is type and ts only")
			assert.Zero(t, (ev.TS-start)%2000, "ticks fall on multiples of TickEvery")
			continue
		}
		require.NotEmpty(t, ev.ID)
		require.False(t, ids[ev.ID], "line %d: duplicate id %s", line, ev.ID)
		ids[ev.ID] = true
		assert.Contains(t, []string{"shop", "docs", "saas"}, ev.WidgetID)
		assert.True(t, strings.HasPrefix(ev.URL, "https://"+ev.WidgetID+".example/") || ev.URL == "", ev.URL)
	}
	require.NoError(t, sc.Err())
}

func TestTimesAreWholeMillisecondsInRFC3339(t *testing.T) {
	b := ndjson(t, Config{Seed: 1, Visitors: 5, Events: 50})
	line, _, _ := bytes.Cut(b, []byte("\n"))
	assert.Regexp(t, `"ts":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"`, string(line))
}

// visit is what one session of the stream did.
type visit struct {
	last int64 // time of its last event
	spa  int   // route changes of a single-page app
}

func TestTrafficHasTheRequestedMix(t *testing.T) {
	evs := collect(t, Config{Seed: 5, Visitors: 500, Events: 200000, TickEvery: time.Second})
	counts := map[schemas.EventType]int{}
	names := map[string]int{}
	referrers := map[string]int{}
	pages := map[string]int{}
	current := map[string]*visit{} // by visitor
	var sessions, returns int
	open := map[string]bool{}
	var maxOpen int
	lastURL := map[string]string{}

	for _, ev := range evs {
		counts[ev.Type]++
		if ev.Type == schemas.Tick {
			continue
		}
		v := current[ev.VisitorID]
		if v == nil || ev.TS-v.last > 30*60*1000 {
			if v != nil {
				returns++
			}
			sessions++
			v = &visit{}
			current[ev.VisitorID] = v
			require.Equal(t, schemas.PageView, ev.Type, "a session starts with a page view")
			referrers[ev.Referrer]++
		}
		v.last = ev.TS
		switch ev.Type {
		case schemas.PageView:
			pages[pathOf(ev.URL)]++
			assert.NotEmpty(t, ev.Title)
		case schemas.Heartbeat:
			if ev.URL != lastURL[ev.VisitorID] {
				v.spa++
				assert.NotEmpty(t, ev.Title, "a route change carries the new title")
			}
		case schemas.Custom:
			names[ev.Name]++
		}
		if ev.URL != "" {
			lastURL[ev.VisitorID] = ev.URL
		}
		open[ev.VisitorID] = true
		if ev.Type == schemas.Leave {
			delete(open, ev.VisitorID)
		}
		maxOpen = max(maxOpen, len(open))
	}

	total := len(evs)
	t.Logf("types %v, custom %v, referrers %v, sessions %d, returns %d", counts, names, referrers, sessions, returns)
	share := func(n int) float64 { return float64(n) / float64(total) }
	assert.InDelta(t, 0.12, share(counts[schemas.PageView]), 0.08, "page views")
	assert.InDelta(t, 0.55, share(counts[schemas.Heartbeat]), 0.2, "heartbeats dominate")
	assert.Greater(t, counts[schemas.Custom], total/100)
	assert.Greater(t, counts[schemas.Leave], total/100)
	assert.Greater(t, counts[schemas.Tick], 1000)
	for _, name := range []string{"payment_cancelled", "add_to_cart", "video_played"} {
		assert.Greater(t, names[name], 50, name)
	}
	for _, ref := range []string{"https://www.google.com/", "https://www.facebook.com/", ""} {
		assert.Greater(t, referrers[ref], sessions/10, "referrer %q", ref)
	}
	for _, p := range []string{"/", "/pricing", "/products", "/products/n", "/checkout", "/faq"} {
		assert.Greater(t, pages[p], 100, "page %s", p)
	}
	assert.Greater(t, returns, sessions/10, "visitors come back after 30 minutes")
	assert.Greater(t, maxOpen, 20, "sessions overlap")
	spa := 0
	for _, v := range current {
		spa += v.spa
	}
	assert.Greater(t, spa, 0, "some navigations are single-page-app route changes")
}

func pathOf(url string) string {
	_, rest, _ := strings.Cut(url, "://")
	_, path, _ := strings.Cut(rest, "/")
	path = "/" + path
	if strings.HasPrefix(path, "/products/") {
		return "/products/n"
	}
	return path
}

func TestSessionsStayOnAPage5To90Seconds(t *testing.T) {
	evs := collect(t, Config{Seed: 9, Visitors: 100, Events: 30000})
	lastBeat := map[string]int64{}
	for _, ev := range evs {
		switch ev.Type {
		case schemas.PageView:
			lastBeat[ev.VisitorID] = ev.TS
		case schemas.Heartbeat:
			if prev, ok := lastBeat[ev.VisitorID]; ok && ev.TS-prev < 30*60*1000 {
				gap := ev.TS - prev
				assert.LessOrEqual(t, gap, int64(90_000), "no silence over 90s on a page")
			}
			lastBeat[ev.VisitorID] = ev.TS
		}
	}
}

func TestGenerateStopsOnCallbackError(t *testing.T) {
	boom := errors.New("boom")
	n := 0
	err := Generate(Config{Seed: 1, Events: 1000}, func(*schemas.Event) error {
		n++
		if n == 10 {
			return boom
		}
		return nil
	})
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, 10, n)
}

func TestWriteNDJSONReportsWriteErrors(t *testing.T) {
	_, err := WriteNDJSON(failingWriter{}, Config{Seed: 1, Events: 100000})
	assert.ErrorIs(t, err, io.ErrShortWrite)
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrShortWrite }

func TestGenerateRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"negative visitors": {Visitors: -1},
		"negative events":   {Events: -1},
		"bad widget":        {Widgets: []string{"shop.example"}},
		"sub-ms ticks":      {TickEvery: time.Microsecond},
	} {
		t.Run(name, func(t *testing.T) {
			err := Generate(cfg, func(*schemas.Event) error { return nil })
			assert.ErrorIs(t, err, ErrConfig)
		})
	}
}

func TestCustomWidgets(t *testing.T) {
	evs := collect(t, Config{Seed: 2, Visitors: 20, Events: 2000, Widgets: []string{"acme"}})
	for _, ev := range evs {
		assert.Equal(t, "acme", ev.WidgetID)
	}
}

func BenchmarkGenerate(b *testing.B) {
	cfg := Config{Seed: 1, Visitors: 10000, Events: b.N, TickEvery: time.Second}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	require.NoError(b, Generate(cfg, func(*schemas.Event) error { n++; return nil }))
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkWriteNDJSON(b *testing.B) {
	cfg := Config{Seed: 1, Visitors: 10000, Events: b.N, TickEvery: time.Second}
	b.ReportAllocs()
	b.ResetTimer()
	var cw countingWriter
	n, err := WriteNDJSON(&cw, cfg)
	require.NoError(b, err)
	b.SetBytes(int64(cw) / int64(max(n, 1)))
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

type countingWriter int

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}
