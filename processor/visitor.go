package processor

import (
	"strings"
	"unsafe"

	"github.com/beckon-chat/beckon/rules"
)

// never is a time before every other: no cooldown, no evaluation yet.
const never = int64(-1 << 63)

// visitor is the state of one (widget, visitor) pair: SPEC §2. It is kept
// small because there is one per live visitor: times are absolute ms,
// strings share their bytes with the widget's intern table, and the rules
// fired are bit sets indexed by rule position.
type visitor struct {
	id     string // in idBuf when it fits: see setID
	widget *widgetState

	sessionStart int64
	lastEvent    int64
	lastEval     int64 // last evaluation instant; timers only come after it
	pageStart    int64 // = sessionStart while there is no page
	presentUntil int64 // presence deadline: last event + presence timeout, or a leave's time
	cooldownEnd  int64 // cooldown_until; never when none

	wake     int64  // next timer instant, or the expiry of the state
	qkey     int64  // its instant in the timer queue: ≤ wake (see timerQueue)
	startPos uint64 // stream position of the session's first event
	qpos     int32  // where it is in the timer queue
	pages    int32  // pages_viewed

	firedSession uint64 // once_per_session rules fired in this session
	firedPage    uint64 // once_per_page rules fired on this page
	strBits      uint64 // the bits of its url, title and referral, and of "" as event name (see widgetPlan)

	page  *interned // current_url
	title *interned // page_title
	ref   *interned // referral_url

	idBuf [maxInlineID]byte
}

// maxInlineID is the longest visitor id kept inside the visitor: the
// tracker's ids are 22 characters.
const maxInlineID = 24

// setID gives v its id, in v's own memory when it fits, so that telling a
// visitor by its id (visitorIndex) reads no other cache line. Such an id
// changes when the state is reused: what outlives the state takes a copy.
func (v *visitor) setID(id string) {
	if len(id) > maxInlineID {
		v.id = strings.Clone(id)
		return
	}
	n := copy(v.idBuf[:], id)
	v.id = unsafe.String(&v.idBuf[0], n)
}

// setWake sets the wake: the timer instant t when ok, else the expiry of
// the state.
func (v *visitor) setWake(t int64, ok bool) {
	if ok {
		v.wake = t
	} else {
		v.wake = v.expiry()
	}
}

// since is when the time variable x (time_on_site, time_on_page) counts
// from: the session's start or the page's.
func (v *visitor) since(x rules.Variable) int64 {
	if x == rules.TimeOnSite {
		return v.sessionStart
	}
	return v.pageStart
}

// expiry is the first instant at which the next event would start a new
// session: then nothing of this state can matter any more.
func (v *visitor) expiry() int64 {
	return v.lastEvent + v.widget.rules.SessionTimeout + 1
}

func (v *visitor) startSession(t int64, pos uint64, referrer string) {
	v.sessionStart = t
	v.startPos = pos
	v.pageStart = t
	v.pages = 0
	v.firedSession = 0
	v.firedPage = 0
	v.cooldownEnd = never
	w := v.widget
	v.page, v.title = w.empty, w.empty
	v.ref = w.intern(referrer)
	v.strBits = w.plan.with(w.empty.bits, rules.ReferralURL, v.ref.bits)
}

func (v *visitor) startPage(t int64, url, title string) {
	v.pageStart = t
	w := v.widget
	v.page, v.title = w.intern(url), w.intern(title)
	v.strBits = w.plan.with(w.plan.with(v.strBits, rules.CurrentURL, v.page.bits), rules.PageTitle, v.title.bits)
	v.pages++
	v.firedPage = 0
}

func (v *visitor) fired(r *rules.Rule) bool {
	bit := uint64(1) << uint(r.Index)
	if r.OncePerPage {
		return v.firedPage&bit != 0
	}
	return v.firedSession&bit != 0
}

func (v *visitor) markFired(r *rules.Rule) {
	bit := uint64(1) << uint(r.Index)
	if r.OncePerPage {
		v.firedPage |= bit
	} else {
		v.firedSession |= bit
	}
}

// nextTimer is the visitor's next timer instant (SPEC §4): the earliest
// onset of a rule that can still fire, or the end of a cooldown, that lies
// after the last evaluation instant and within presence. ok is false when
// there is none.
func (v *visitor) nextTimer() (int64, bool) {
	return v.timerInstant(v.lastEval+1, v.presentUntil, false)
}

// timerInstant is the first (or, with last, the last) of the visitor's
// timer instants from..to: the onsets of the rules that can still fire and
// the end of the cooldown.
func (v *visitor) timerInstant(from, to int64, last bool) (int64, bool) {
	found, ok := int64(0), false
	consider := func(t int64) {
		if t >= from && t <= to && (!ok || (t < found) != last) {
			found, ok = t, true
		}
	}
	if v.cooldownEnd != never {
		consider(v.cooldownEnd)
	}
	for _, r := range v.widget.rules.Rules {
		if !r.Enabled || len(r.Onsets) == 0 || v.fired(r) {
			continue
		}
		for _, o := range r.Onsets {
			consider(v.since(o.Base) + o.Offset)
		}
	}
	return found, ok
}

// nextFiring is the first of the visitor's timer instants at which a rule
// fires, if no event comes first. Between two events only time moves, so
// the timer instants before it would fire nothing: the engine wakes the
// visitor at this one and passes over the others (see passed). ok is false
// when no timer instant fires.
func (v *visitor) nextFiring() (int64, bool) { return v.nextFiringAfter(v.lastEval) }

// nextFiringAfter is nextFiring when the timer instants up to after, at or
// after the last evaluation instant, are known to fire nothing.
func (v *visitor) nextFiringAfter(after int64) (int64, bool) {
	// The first timer instant out of the cooldown: none before it fires,
	// and each rule's first instant holding from it on is it or an onset
	// of the rule — another timer instant.
	from, ok := v.timerInstant(max(after+1, v.cooldownEnd), v.presentUntil, false)
	if !ok {
		return 0, false
	}
	vars := v.vars(from, "")
	first := v.presentUntil + 1 // none
	for i := range v.widget.plan.rules {
		rp := &v.widget.plan.rules[i]
		r := rp.rule
		if !r.Enabled || rp.needsEvent || v.fired(r) {
			continue
		}
		if at, holds := rp.firstHolding(v, &vars, from, first); holds {
			first = at
			if at == from {
				break
			}
		}
	}
	return first, first <= v.presentUntil
}

// passed brings the last evaluation instant up to the timer instants that
// the engine passed over (see nextFiring) up to now: they were evaluation
// instants where nothing fired. Only a late event, or a leave, which
// evaluates nothing, can tell.
func (v *visitor) passed(now int64) {
	if t, ok := v.timerInstant(v.lastEval+1, min(now, v.presentUntil), true); ok {
		v.lastEval = t
	}
}

// earliest is the first instant at or after t at which time condition c
// holds for v, if any.
func (v *visitor) earliest(c *rules.Condition, t int64) (int64, bool) {
	base := v.since(c.Variable)
	n, ok := c.Earliest(t - base)
	return base + n, ok
}

func (v *visitor) vars(t int64, eventName string) rules.Vars {
	return rules.Vars{
		CurrentURL:  v.page.s,
		ReferralURL: v.ref.s,
		PageTitle:   v.title.s,
		EventName:   eventName,
		TimeOnSite:  t - v.sessionStart,
		TimeOnPage:  t - v.pageStart,
		PagesViewed: int64(v.pages) * 1000,
	}
}
