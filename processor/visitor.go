package processor

import "github.com/beckon-chat/beckon/rules"

// never is a time before every other: no cooldown, no evaluation yet.
const never = int64(-1 << 63)

// visitor is the state of one (widget, visitor) pair: SPEC §2. It is kept
// small because there is one per live visitor: times are absolute ms,
// strings share their bytes with the widget's intern table, and the rules
// fired are bit sets indexed by rule position.
type visitor struct {
	id     string
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
	strKnown     uint64 // page and referral conditions matched on this page (see widgetPlan)
	strBits      uint64 // ... and their results

	pageURL   string
	pageTitle string
	referral  string
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
	v.pageURL = ""
	v.pageTitle = ""
	v.referral = v.widget.intern(referrer)
	v.strKnown = 0
}

func (v *visitor) startPage(t int64, url, title string) {
	v.pageStart = t
	v.pageURL = v.widget.intern(url)
	v.pageTitle = v.widget.intern(title)
	v.pages++
	v.firedPage = 0
	v.strKnown = 0
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
	next, ok := int64(0), false
	consider := func(t int64) {
		if t > v.lastEval && t <= v.presentUntil && (!ok || t < next) {
			next, ok = t, true
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
			base := v.pageStart
			if o.Base == rules.TimeOnSite {
				base = v.sessionStart
			}
			consider(base + o.Offset)
		}
	}
	return next, ok
}

func (v *visitor) vars(t int64, eventName string) rules.Vars {
	return rules.Vars{
		CurrentURL:  v.pageURL,
		ReferralURL: v.referral,
		PageTitle:   v.pageTitle,
		EventName:   eventName,
		TimeOnSite:  t - v.sessionStart,
		TimeOnPage:  t - v.pageStart,
		PagesViewed: int64(v.pages) * 1000,
	}
}
