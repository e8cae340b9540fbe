// Package processor turns a partition's events into invitations. Its Engine
// is the pure heart of Beckon — visitor state, sessions, pages, presence,
// timers, cooldown and priority exactly as SPEC §2–4, driven by event time
// alone, with no I/O — and its Runner feeds the engine from JetStream.
package processor

import (
	"math"
	"strings"

	"github.com/beckon-chat/beckon/rules"
	"github.com/beckon-chat/beckon/schemas"
)

// Engine keeps the state of the visitors of one partition and evaluates
// their rules. It knows no clock but the times of the events it is given:
// the same events give the same invitations, ids included. An Engine is not
// safe for concurrent use; partitions each have their own.
type Engine struct {
	rules   *rules.Set
	widgets map[string]*widgetState
	list    []*widgetState // the same, in file order: a few are found faster by scan
	timers  timerQueue
	now     int64  // the latest time seen: events and ticks
	pos     uint64 // the caller's position of the event being applied
	stats   Stats
	ids     idArena
	free    []*visitor // states of expired visitors, for reuse
	// retired are states expired since the timer queue last opened a slot:
	// a near heap entry left behind may still point at them and compare
	// their ids (see timerQueue), so they are kept as they are and reused
	// only after it has.
	retired      []*visitor
	retiredEpoch uint64
	// everyInstant: wake visitors at every timer instant, as SPEC §4 says,
	// instead of only at those where a rule fires. The same output, slower:
	// the tests' reference.
	everyInstant bool
}

// Stats counts what the engine has seen.
type Stats struct {
	Events        uint64 // visitor events applied
	Ticks         uint64 // ticks applied
	UnknownWidget uint64 // events for widgets with no rules, ignored
	Fired         uint64 // invitations produced
	Expired       uint64 // visitor states dropped
}

// widgetState is a widget's rules and its live visitors.
type widgetState struct {
	rules    *rules.Widget
	plan     *widgetPlan
	visitors visitorIndex
	strings  map[string]*interned // urls, titles, referrers and event names
	empty    *interned            // ""
	// copyStrings: the events' strings are borrowed (CopyEventStrings).
	copyStrings bool
}

// keep returns s for the engine to keep: a copy when it is borrowed.
func (w *widgetState) keep(s string) string {
	if w.copyStrings {
		return strings.Clone(s)
	}
	return s
}

// interned is a string that the widget has seen, and its bits: the results
// of the widget's string conditions for it (see widgetPlan).
type interned struct {
	s    string
	bits uint64
}

// maxInterned bounds a widget's intern table: past it, strings are kept as
// they come and matched each time, so that a flood of unique urls costs
// what it would without interning.
const maxInterned = 1 << 16

// intern returns the widget's copy of s, to keep, with its bits.
func (w *widgetState) intern(s string) *interned {
	if s == "" {
		return w.empty
	}
	if in, ok := w.strings[s]; ok {
		return in
	}
	in := &interned{s: w.keep(s), bits: w.plan.bits(s)}
	if len(w.strings) < maxInterned {
		w.strings[in.s] = in
	}
	return in
}

// CopyEventStrings tells the engine that the strings of the events given
// to Apply are valid only during the call — they point into a reader's
// buffer (schemas.RecordingReader.NextBorrowed) — so that it copies what it
// keeps. Otherwise it keeps the strings as they are, which costs nothing
// when the decoder made them anyway.
func (e *Engine) CopyEventStrings() {
	for _, w := range e.widgets {
		w.copyStrings = true
	}
}

// New returns an engine that evaluates the given rules.
func New(set *rules.Set) *Engine {
	e := &Engine{rules: set, widgets: make(map[string]*widgetState), now: never}
	for _, w := range set.Widgets() {
		plan := newWidgetPlan(w)
		ws := &widgetState{rules: w, plan: plan, visitors: newVisitorIndex(),
			strings: make(map[string]*interned), empty: &interned{bits: plan.empty}}
		e.widgets[w.ID] = ws
		e.list = append(e.list, ws)
	}
	return e
}

// Now is the engine's time: the latest event or tick time it has seen.
func (e *Engine) Now() int64 { return e.now }

// Visitors is the number of visitors whose state is kept.
func (e *Engine) Visitors() int { return e.timers.len() }

// SetPosition tells the engine the stream position (sequence) of the next
// event it applies. The engine only remembers it, per session, so that
// OldestOpenPosition can say how far back a rebuild must re-read.
func (e *Engine) SetPosition(pos uint64) { e.pos = pos }

// OldestOpenPosition is the position of the first event of the oldest
// session whose state is kept: re-reading a stream from there rebuilds every
// open session exactly. ok is false when no state is kept.
func (e *Engine) OldestOpenPosition() (pos uint64, ok bool) {
	for _, w := range e.list {
		for v := range w.visitors.all() {
			if !ok || v.startPos < pos {
				pos, ok = v.startPos, true
			}
		}
	}
	return pos, ok
}

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats { return e.stats }

// Apply applies one event or tick at its time and appends the invitations it
// causes to out: first those of timer instants up to the event's time, then
// the event's own. An event must have been validated (schemas.Event.Validate).
// The engine keeps some of the event's strings (the visitor id, urls,
// titles); see CopyEventStrings for events whose strings are borrowed.
func (e *Engine) Apply(ev *schemas.Event, out []schemas.Invitation) []schemas.Invitation {
	out = e.Advance(ev.TS, out)
	if ev.Type == schemas.Tick {
		e.stats.Ticks++
		return out
	}
	w := e.widget(ev.WidgetID)
	if w == nil {
		e.stats.UnknownWidget++
		return out
	}
	e.stats.Events++
	v := w.visitors.get(ev.VisitorID)
	t := ev.TS
	// same: the event leaves the visitor on the same page of the same
	// session, with the same rules fired and cooldown — all that decides
	// which of its timer instants fire (see presenceMoved).
	same := v != nil
	var prevWake, prevPresent int64
	if v != nil {
		if (t < e.now || ev.Type == schemas.Leave) && !e.everyInstant {
			v.passed(e.now)
		}
		// Clamp: a visitor's time never goes back (SPEC §2).
		t = max(t, v.lastEvent, v.lastEval)
		prevWake, prevPresent = v.wake, v.presentUntil
	}
	if v == nil {
		v = e.newVisitor()
		*v = visitor{widget: w, lastEval: never}
		v.setID(ev.VisitorID)
		w.visitors.add(v)
		v.startSession(t, e.pos, ev.Referrer)
	} else if t-v.lastEvent > w.rules.SessionTimeout {
		v.startSession(t, e.pos, ev.Referrer)
		same = false
	}
	switch {
	case ev.Type == schemas.PageView:
		v.startPage(t, ev.URL, ev.Title)
		same = false
	case ev.Type != schemas.Leave && ev.URL != "" && (v.pages == 0 || ev.URL != v.page.s):
		v.startPage(t, ev.URL, ev.Title)
		same = false
	}
	v.lastEvent = t
	if ev.Type == schemas.Leave {
		v.presentUntil = t // presence ends: timers after it are gone
		same = false
	} else {
		v.presentUntil = t + w.rules.PresenceTimeout
		name := ""
		if ev.Type == schemas.Custom {
			name = ev.Name
		}
		n := len(out)
		out = e.evaluate(v, t, schemas.TriggerEvent, name, out)
		if len(out) > n {
			same = false // a rule fired
		}
	}
	if same && !e.everyInstant {
		e.presenceMoved(v, prevWake, prevPresent)
	} else {
		e.reschedule(v)
	}
	return out
}

// widget returns the state of widget id, or nil.
func (e *Engine) widget(id string) *widgetState {
	if len(e.list) > 8 {
		return e.widgets[id]
	}
	// Decoders intern widget ids, so most of these compare one pointer.
	for _, w := range e.list {
		if w.rules.ID == id {
			return w
		}
	}
	return nil
}

// Advance moves the engine's time to t, firing every timer instant up to
// and including t and dropping the state of visitors whose session has
// ended. Times before the engine's time change nothing.
func (e *Engine) Advance(t int64, out []schemas.Invitation) []schemas.Invitation {
	if t > e.now {
		e.now = t
	}
	for v := e.timers.due(e.now); v != nil; v = e.timers.due(e.now) {
		out = e.wake(v, out)
	}
	return out
}

// Drain fires every pending timer instant, as at the end of a recording
// (SPEC §4), and drops all visitor state. The engine's time is left at the
// last instant processed.
func (e *Engine) Drain(out []schemas.Invitation) []schemas.Invitation {
	for v := e.timers.due(math.MaxInt64); v != nil; v = e.timers.due(math.MaxInt64) {
		if v.wake > e.now {
			e.now = v.wake
		}
		out = e.wake(v, out)
	}
	return out
}

// wake handles a visitor whose wake instant has come: a timer instant, or
// the end of its state. v has been taken out of the timer queue.
func (e *Engine) wake(v *visitor, out []schemas.Invitation) []schemas.Invitation {
	if v.wake >= v.expiry() {
		v.widget.visitors.remove(v)
		e.stats.Expired++
		e.recycle()
		if len(e.free)+len(e.retired) < maxFree {
			e.retired = append(e.retired, v) // as it is: see retired
		}
		return out
	}
	out = e.evaluate(v, v.wake, schemas.TriggerTimer, "", out)
	e.reschedule(v)
	return out
}

// maxFree bounds the states kept for reuse, so that memory taken by a
// burst of visitors goes back to the heap once they have gone.
const maxFree = 1 << 18

// newVisitor reuses the state of an expired visitor, so that the steady
// state of visitors coming and going allocates nothing.
func (e *Engine) newVisitor() *visitor {
	e.recycle()
	if n := len(e.free); n > 0 {
		v := e.free[n-1]
		e.free[n-1] = nil
		e.free = e.free[:n-1]
		return v
	}
	return new(visitor)
}

// recycle makes the retired states reusable once the timer queue has
// opened a slot since they expired.
func (e *Engine) recycle() {
	if epoch := e.timers.epoch(); epoch != e.retiredEpoch {
		e.free = append(e.free, e.retired...)
		clear(e.retired)
		e.retired = e.retired[:0]
		e.retiredEpoch = epoch
	}
}

// presenceMoved reschedules a visitor after an event that only moved its
// presence on (same, in Apply). Which of its timer instants fire has not
// changed (see visitor.nextFiring): its wake is still the first of them,
// unless none came before the old presence deadline; then the first after
// it is looked for.
func (e *Engine) presenceMoved(v *visitor, prevWake, prevPresent int64) {
	if prevWake <= prevPresent {
		return // a firing instant, still the first: the queue has it
	}
	v.setWake(v.nextFiringAfter(max(v.lastEval, prevPresent)))
	e.timers.schedule(v)
}

func (e *Engine) reschedule(v *visitor) {
	if e.everyInstant {
		v.setWake(v.nextTimer())
	} else {
		v.setWake(v.nextFiring())
	}
	e.timers.schedule(v)
}

// evaluate is one evaluation instant (SPEC §4): the first enabled rule in
// priority order that holds and has not fired in its scope fires, unless a
// cooldown is running.
func (e *Engine) evaluate(v *visitor, t int64, trigger schemas.Trigger, eventName string, out []schemas.Invitation) []schemas.Invitation {
	v.lastEval = t
	if t < v.cooldownEnd {
		return out
	}
	vars := v.vars(t, eventName)
	plan := v.widget.plan
	bits := v.strBits // with the bits of "" for event_name
	if eventName != "" {
		bits = plan.with(bits, rules.EventName, v.widget.intern(eventName).bits)
	}
	for i := range plan.rules {
		rp := &plan.rules[i]
		r := rp.rule
		if !r.Enabled || (rp.needsEvent && eventName == "") || v.fired(r) || !rp.holds(bits, &vars) {
			continue
		}
		v.markFired(r)
		v.cooldownEnd = t + v.widget.rules.Cooldown
		e.stats.Fired++
		return append(out, e.invitation(v, r, t, trigger))
	}
	return out
}

func (e *Engine) invitation(v *visitor, r *rules.Rule, t int64, trigger schemas.Trigger) schemas.Invitation {
	w := v.widget.rules
	sid := e.ids.sessionID(w.ID, v.id, v.sessionStart)
	return schemas.Invitation{
		InvitationID: e.ids.invitationID(sid, r.ID, v.pages, t, trigger),
		WidgetID:     w.ID,
		VisitorID:    e.ids.clone(v.id), // v.id changes when v is reused
		SessionID:    sid,
		RuleID:       r.ID,
		RuleName:     r.Name,
		Department:   r.Invitation.Department,
		Title:        r.Invitation.Title,
		Prompt:       r.Invitation.Prompt,
		ImageURL:     r.Invitation.ImageURL,
		At:           t,
		Trigger:      trigger,
		PageURL:      v.page.s,
	}
}
