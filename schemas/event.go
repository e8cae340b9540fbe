// Package schemas holds Beckon's wire types — the clickstream event and the
// invitation command of SPEC §1 and §5 — with their NDJSON and msgpack
// encodings, the id rules that keep subjects safe, and JSON Schema documents.
package schemas

// EventType is the kind of a clickstream event.
type EventType string

// The event types of SPEC §1.
const (
	PageView  EventType = "page_view"
	Heartbeat EventType = "heartbeat"
	Custom    EventType = "event"
	Leave     EventType = "leave"
	// Tick advances a partition's time; it belongs to no visitor.
	Tick EventType = "tick"
)

// MaxIDLen is the longest widget or visitor id (SPEC §1).
const MaxIDLen = 128

// Event is one clickstream beacon, or a tick. Times are unix milliseconds;
// zero means absent.
type Event struct {
	ID        string    // unique id, the NATS de-duplication id
	Type      EventType // page_view, heartbeat, event, leave or tick
	WidgetID  string    // the widget (site)
	VisitorID string    // the anonymous visitor
	TS        int64     // event time, ms since the epoch (ingest's clock)
	URL       string    // the page's address
	Referrer  string    // document.referrer
	Title     string    // the page's title
	Name      string    // the custom event's name
	ClientTS  int64     // when the client says it made the event (not trusted)
	SentTS    int64     // when the client says it sent the event (not trusted)
}

// Validate checks the event against SPEC §1. requireTS is true for
// recordings and the stream, where every event has its time; ingest stamps
// ts itself and validates before it does.
func (e *Event) Validate(requireTS bool) error {
	switch e.Type {
	case "":
		return missing("type")
	case Tick:
		if requireTS && e.TS == 0 {
			return missing("ts")
		}
		return nil
	case PageView, Heartbeat, Custom, Leave:
	default:
		return invalid("type", "must be page_view, heartbeat, event, leave or tick")
	}
	if err := ValidateID("widget_id", e.WidgetID); err != nil {
		return err
	}
	if err := ValidateID("visitor_id", e.VisitorID); err != nil {
		return err
	}
	if requireTS && e.TS == 0 {
		return missing("ts")
	}
	if e.Type == PageView && e.URL == "" {
		return missing("url")
	}
	if e.Type == Custom && e.Name == "" {
		return missing("name")
	}
	if e.ID != "" && !validIDChars(e.ID) {
		return invalid("id", "must be 1-128 characters of A-Z a-z 0-9 _ -")
	}
	return nil
}

// ValidateID checks a widget or visitor id: 1–128 characters of
// [A-Za-z0-9_-], so that it is safe as a NATS subject token.
func ValidateID(field, id string) error {
	if id == "" {
		return missing(field)
	}
	if !validIDChars(id) {
		return invalid(field, "must be 1-128 characters of A-Z a-z 0-9 _ -")
	}
	return nil
}

func validIDChars(id string) bool {
	if len(id) == 0 || len(id) > MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !idChar[id[i]] {
			return false
		}
	}
	return true
}

// idChar is [A-Za-z0-9_-]: a table, as a chain of comparisons mispredicts
// on the mixed characters of random ids.
var idChar = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
	}
	return t
}()
