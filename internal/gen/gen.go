// Package gen generates deterministic synthetic clickstream traffic —
// visitors arriving over time, browsing, sending custom events, leaving and
// coming back — for tests and benchmarks.
package gen

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/beckon-chat/beckon/schemas"
)

// Config describes the traffic to generate. The zero value, with Events
// set, is useful: the defaults are applied by Generate.
type Config struct {
	// Seed makes the traffic: the same Config gives the same events, byte
	// for byte, on every run.
	Seed int64
	// Visitors is how many distinct visitors there are; default 1000. When
	// Events asks for more than their visits make, visitors who have been
	// away for more than 30 minutes come back for new sessions.
	Visitors int
	// Widgets are the widget ids the visitors are spread over; default
	// "shop", "docs", "saas" (those of deploy/rules/bench.yaml). Each
	// widget's pages live at https://<widget>.example.
	Widgets []string
	// Start is the time of the first arrival; default 2026-11-23T10:00:00Z.
	Start time.Time
	// Events stops the stream after this many events, ticks included. 0
	// means run until every visitor has made its visits.
	Events int
	// TickEvery, when positive, adds a tick event at every multiple of it
	// after Start, in stream time, while the stream runs.
	TickEvery time.Duration
	// ArrivalEvery is the mean time between two visits starting; default
	// 1s, which keeps a few hundred sessions open at once.
	ArrivalEvery time.Duration
	// ReturnRate is the chance that a visitor comes back 31 minutes to 3
	// hours after a session ends, for a new session; default 0.3, negative
	// for none.
	ReturnRate float64
}

// ErrConfig is a Config that cannot generate traffic.
var ErrConfig = errors.New("gen: invalid config")

const (
	heartbeatEvery = 10_000           // ms between heartbeats on a page
	sessionGap     = 31 * 60 * 1000   // ms away that make a new session (> 30m)
	returnSpread   = 149 * 60 * 1000  // returns come 31m to 3h after leaving
	minDwell       = 5_000            // ms on a page, at least
	dwellSpread    = 85_000           // ... and at most minDwell+dwellSpread
	continuePct    = 75               // chance of another page after one
	spaPct         = 25               // chance a navigation is a SPA route change
	leavePct       = 60               // chance a session ends with a leave event
	maxPages       = 15               // pages in a session, at most
	never          = int64(1<<63 - 1) // a time that does not come
)

func (c *Config) applyDefaults() error {
	if c.Visitors == 0 {
		c.Visitors = 1000
	}
	if len(c.Widgets) == 0 {
		c.Widgets = []string{"shop", "docs", "saas"}
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	}
	if c.ArrivalEvery == 0 {
		c.ArrivalEvery = time.Second
	}
	if c.ReturnRate == 0 {
		c.ReturnRate = 0.3
	}
	switch {
	case c.Visitors < 0:
		return fmt.Errorf("%w: Visitors %d is negative", ErrConfig, c.Visitors)
	case c.Events < 0:
		return fmt.Errorf("%w: Events %d is negative", ErrConfig, c.Events)
	case c.TickEvery < 0 || c.ArrivalEvery < 0:
		return fmt.Errorf("%w: TickEvery and ArrivalEvery must not be negative", ErrConfig)
	case c.ArrivalEvery < time.Millisecond:
		return fmt.Errorf("%w: ArrivalEvery %v is under a millisecond", ErrConfig, c.ArrivalEvery)
	case c.TickEvery > 0 && c.TickEvery < time.Millisecond:
		return fmt.Errorf("%w: TickEvery %v is under a millisecond", ErrConfig, c.TickEvery)
	}
	for _, w := range c.Widgets {
		if err := schemas.ValidateID("widget_id", w); err != nil {
			return fmt.Errorf("%w: widget %q: %v", ErrConfig, w, err)
		}
	}
	return nil
}

// Generate produces the traffic of cfg, in stream order, calling fn for each
// event; times never decrease from one event to the next. fn must not keep
// ev: it is reused for the next event. An error from fn stops the stream and
// is returned.
func Generate(cfg Config, fn func(ev *schemas.Event) error) error {
	if err := cfg.applyDefaults(); err != nil {
		return err
	}
	g := newGenerator(cfg)
	return g.run(fn)
}

// visitor is one anonymous visitor.
type visitor struct {
	id   string // made when first needed
	site *site
}

// session is an open visit: the page it is on and what it does next.
type session struct {
	visitor  int
	page     int   // page index on the visitor's site
	pages    int   // pages started
	pageEnd  int64 // when the visitor leaves the page
	nextBeat int64 // next heartbeat, or never
	customAt int64 // the page's custom event, or never
	custom   string
}

func (s *session) next() int64 { return min(s.pageEnd, s.nextBeat, s.customAt) }

// away is a visitor who ended a session at since.
type away struct {
	visitor int
	since   int64
}

type generator struct {
	cfg      Config
	r        *rand.Rand
	sites    []*site
	visitors []visitor
	sessions []session
	free     []int // unused entries of sessions
	q        queue // sessions' next actions and scheduled returns
	away     []away
	awayHead int // away[awayHead:] are away, oldest first

	now         int64 // ms; the time of the last event
	nextTick    int64
	nextArrival int64
	newVisitors int // visitors who have made their first visit
	emitted     int
	idPrefix    int // len of "e<seed>-" in idBuf
	idBuf       []byte
	ev          schemas.Event
}

func newGenerator(cfg Config) *generator {
	g := &generator{
		cfg:      cfg,
		r:        rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6265636b6f6e)), // "beckon"
		visitors: make([]visitor, cfg.Visitors),
		nextTick: never,
	}
	for _, w := range cfg.Widgets {
		g.sites = append(g.sites, newSite(w))
	}
	start := cfg.Start.UnixMilli()
	g.now = start
	g.nextArrival = start
	if cfg.Visitors == 0 {
		g.nextArrival = never
	}
	if cfg.TickEvery > 0 {
		g.nextTick = start + cfg.TickEvery.Milliseconds()
	}
	g.idBuf = strconv.AppendInt(append(g.idBuf, 'e'), cfg.Seed, 10)
	g.idBuf = append(g.idBuf, '-')
	g.idPrefix = len(g.idBuf)
	return g
}

// Kinds of queue items.
const (
	actSession = iota // a session's next action; idx is the session
	actReturn         // a visitor comes back; idx is the visitor
)

func (g *generator) run(fn func(*schemas.Event) error) error {
	for {
		if g.cfg.Events > 0 && g.emitted >= g.cfg.Events {
			return nil
		}
		at := never
		if g.q.len() > 0 {
			at = g.q.top().at
		}
		if at == never && g.nextArrival == never {
			return nil // everyone has made their visits; ticks alone do not go on
		}
		var err error
		switch {
		case g.nextTick <= at && g.nextTick <= g.nextArrival:
			g.now = g.nextTick
			g.nextTick += g.cfg.TickEvery.Milliseconds()
			g.ev = schemas.Event{Type: schemas.Tick, TS: g.now}
			err = g.emit(fn, false)
		case g.nextArrival <= at:
			g.now = g.nextArrival
			if v := g.arrive(); v >= 0 {
				err = g.startSession(v, fn)
			}
		default:
			it := g.q.pop()
			g.now = it.at
			if it.kind == actReturn {
				err = g.startSession(int(it.idx), fn)
			} else {
				err = g.step(int(it.idx), fn)
			}
		}
		if err != nil {
			return err
		}
	}
}

// arrive schedules the next arrival and says which visitor starts a visit
// now: a new one while there are, else one who has been away long enough
// for a new session, else nobody (-1).
func (g *generator) arrive() int {
	g.nextArrival = g.now + int64(g.r.ExpFloat64()*float64(g.cfg.ArrivalEvery.Milliseconds()))
	if g.newVisitors < len(g.visitors) {
		v := g.newVisitors
		g.newVisitors++
		if g.newVisitors == len(g.visitors) && g.cfg.Events == 0 {
			g.nextArrival = never
		}
		return v
	}
	if g.awayHead == len(g.away) || g.away[g.awayHead].since+sessionGap > g.now {
		return -1
	}
	v := g.away[g.awayHead].visitor
	g.awayHead++
	if g.awayHead >= 1024 && g.awayHead*2 >= len(g.away) {
		g.away = append(g.away[:0], g.away[g.awayHead:]...)
		g.awayHead = 0
	}
	return v
}

func (g *generator) startSession(v int, fn func(*schemas.Event) error) error {
	vis := &g.visitors[v]
	if vis.site == nil {
		h := mix(uint64(g.cfg.Seed)*0x9e3779b97f4a7c15 + uint64(v))
		vis.id = "v" + strconv.FormatUint(h, 36)
		vis.site = g.sites[h%uint64(len(g.sites))]
	}
	var s int
	if n := len(g.free); n > 0 {
		s, g.free = g.free[n-1], g.free[:n-1]
	} else {
		s = len(g.sessions)
		g.sessions = append(g.sessions, session{})
	}
	g.sessions[s] = session{visitor: v}
	sess := &g.sessions[s]
	sess.page = pickPage(g.r, landing.pick(g.r))
	g.ev = g.visitorEvent(sess, schemas.PageView)
	g.ev.URL = vis.site.urls[sess.page]
	g.ev.Referrer = pickReferrer(g.r)
	g.ev.Title = vis.site.titles[sess.page]
	g.startPage(sess)
	g.q.push(item{at: sess.next(), kind: actSession, idx: int32(s)})
	return g.emit(fn, true)
}

// startPage plans the visitor's time on the page it has just opened.
func (g *generator) startPage(sess *session) {
	sess.pages++
	dwell := int64(minDwell + g.r.IntN(dwellSpread+1))
	if g.r.IntN(2) == 0 { // most visits to a page are short
		dwell = int64(minDwell + g.r.IntN(dwellSpread/3))
	}
	sess.pageEnd = g.now + dwell
	sess.nextBeat = g.beatAfter(g.now, sess.pageEnd)
	sess.customAt = never
	if name := customEvent(g.r, kindOf(sess.page)); name != "" {
		sess.custom = name
		sess.customAt = g.now + 1000 + int64(g.r.IntN(int(dwell-1000)))
	}
}

func (g *generator) beatAfter(t, pageEnd int64) int64 {
	if b := t + heartbeatEvery + int64(g.r.IntN(20)); b < pageEnd {
		return b
	}
	return never
}

// step performs a session's next action.
func (g *generator) step(s int, fn func(*schemas.Event) error) error {
	sess := &g.sessions[s]
	site := g.visitors[sess.visitor].site
	switch g.now {
	case sess.customAt:
		sess.customAt = never
		g.ev = g.visitorEvent(sess, schemas.Custom)
		g.ev.URL = site.urls[sess.page]
		g.ev.Name = sess.custom
	case sess.nextBeat:
		sess.nextBeat = g.beatAfter(g.now, sess.pageEnd)
		g.ev = g.visitorEvent(sess, schemas.Heartbeat)
		g.ev.URL = site.urls[sess.page]
	default: // the page's end
		if sess.pages >= maxPages || g.r.IntN(100) >= continuePct {
			return g.endSession(s, fn)
		}
		from := sess.page
		sess.page = pickPage(g.r, next[kindOf(from)].pick(g.r))
		if sess.page != from && g.r.IntN(100) < spaPct {
			g.ev = g.visitorEvent(sess, schemas.Heartbeat) // a single-page app's route change
		} else {
			g.ev = g.visitorEvent(sess, schemas.PageView)
			g.ev.Referrer = site.urls[from]
		}
		g.ev.URL = site.urls[sess.page]
		g.ev.Title = site.titles[sess.page]
		g.startPage(sess)
	}
	g.q.push(item{at: sess.next(), kind: actSession, idx: int32(s)})
	return g.emit(fn, true)
}

func (g *generator) endSession(s int, fn func(*schemas.Event) error) error {
	v := g.sessions[s].visitor
	leave := g.r.IntN(100) < leavePct
	if leave {
		g.ev = g.visitorEvent(&g.sessions[s], schemas.Leave)
	}
	g.free = append(g.free, s)
	if g.r.Float64() < g.cfg.ReturnRate {
		g.q.push(item{at: g.now + sessionGap + int64(g.r.IntN(returnSpread)), kind: actReturn, idx: int32(v)})
	} else {
		g.away = append(g.away, away{visitor: v, since: g.now})
	}
	if !leave {
		return nil // the tab stays open and silent; presence times out
	}
	return g.emit(fn, true)
}

func (g *generator) visitorEvent(sess *session, typ schemas.EventType) schemas.Event {
	v := &g.visitors[sess.visitor]
	return schemas.Event{Type: typ, WidgetID: v.site.widget, VisitorID: v.id, TS: g.now}
}

// emit sends g.ev, with an id when withID.
func (g *generator) emit(fn func(*schemas.Event) error, withID bool) error {
	g.emitted++
	if withID {
		g.idBuf = strconv.AppendInt(g.idBuf[:g.idPrefix], int64(g.emitted), 10)
		g.ev.ID = string(g.idBuf)
	}
	return fn(&g.ev)
}

// mix is splitmix64's finalizer, a bijection: distinct visitors get
// distinct ids.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
