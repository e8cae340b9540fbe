package schemas

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func validPageView() Event {
	return Event{
		ID: "e1", Type: PageView, WidgetID: "shop", VisitorID: "v-1_A",
		TS: 1795428000000, URL: "https://shop.example/",
	}
}

func TestValidateAcceptsEventsOfSpec(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
	}{
		{"page view", validPageView()},
		{"page view without id", Event{Type: PageView, WidgetID: "w", VisitorID: "v", TS: 1, URL: "/"}},
		{"heartbeat without url", Event{Type: Heartbeat, WidgetID: "w", VisitorID: "v", TS: 1}},
		{"custom event", Event{Type: Custom, WidgetID: "w", VisitorID: "v", TS: 1, Name: "add_to_cart"}},
		{"leave", Event{Type: Leave, WidgetID: "w", VisitorID: "v", TS: 1}},
		{"tick needs only ts", Event{Type: Tick, TS: 1}},
		{"id of 128 characters", Event{Type: Leave, WidgetID: strings.Repeat("w", 128), VisitorID: strings.Repeat("-", 128), TS: 1}},
		{"every allowed character", Event{Type: Leave, WidgetID: "azAZ09_-", VisitorID: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", TS: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.NoError(t, tt.ev.Validate(true))
		})
	}
}

func TestValidateRejectsEventsAgainstSpec(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*Event)
		field  string
		kind   error
		wantTS bool
	}{
		{"missing type", func(e *Event) { e.Type = "" }, "type", ErrMissing, true},
		{"unknown type", func(e *Event) { e.Type = "click" }, "type", ErrInvalid, true},
		{"type in upper case", func(e *Event) { e.Type = "PAGE_VIEW" }, "type", ErrInvalid, true},
		{"missing widget", func(e *Event) { e.WidgetID = "" }, "widget_id", ErrMissing, true},
		{"missing visitor", func(e *Event) { e.VisitorID = "" }, "visitor_id", ErrMissing, true},
		{"widget with dot", func(e *Event) { e.WidgetID = "shop.example" }, "widget_id", ErrInvalid, true},
		{"widget with star", func(e *Event) { e.WidgetID = "*" }, "widget_id", ErrInvalid, true},
		{"widget with gt", func(e *Event) { e.WidgetID = "shop>" }, "widget_id", ErrInvalid, true},
		{"visitor with space", func(e *Event) { e.VisitorID = "v 1" }, "visitor_id", ErrInvalid, true},
		{"visitor with dot", func(e *Event) { e.VisitorID = "v.1" }, "visitor_id", ErrInvalid, true},
		{"visitor with unicode", func(e *Event) { e.VisitorID = "vé" }, "visitor_id", ErrInvalid, true},
		{"visitor of 129 characters", func(e *Event) { e.VisitorID = strings.Repeat("v", 129) }, "visitor_id", ErrInvalid, true},
		{"widget of 129 characters", func(e *Event) { e.WidgetID = strings.Repeat("w", 129) }, "widget_id", ErrInvalid, true},
		{"missing ts in a recording", func(e *Event) { e.TS = 0 }, "ts", ErrMissing, true},
		{"page view without url", func(e *Event) { e.URL = "" }, "url", ErrMissing, true},
		{"custom event without name", func(e *Event) { e.Type = Custom }, "name", ErrMissing, true},
		{"event id with a dot", func(e *Event) { e.ID = "e.1" }, "id", ErrInvalid, true},
		{"tick without ts", func(e *Event) { *e = Event{Type: Tick} }, "ts", ErrMissing, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := validPageView()
			tt.edit(&ev)
			err := ev.Validate(tt.wantTS)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.kind)
			var fe *FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.field, fe.Field)
			assert.Contains(t, err.Error(), tt.field)
		})
	}
}

func TestValidateWithoutTSAcceptsEventsIngestWillStamp(t *testing.T) {
	ev := validPageView()
	ev.TS = 0
	assert.NoError(t, ev.Validate(false))
	tick := Event{Type: Tick}
	assert.NoError(t, tick.Validate(false))
}

func TestValidateIDNamesTheField(t *testing.T) {
	err := ValidateID("widget_id", "a b")
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "widget_id", fe.Field)
	assert.ErrorIs(t, err, ErrInvalid)
	assert.ErrorIs(t, ValidateID("visitor_id", ""), ErrMissing)
	assert.NoError(t, ValidateID("visitor_id", "v_1-A"))
}

func TestFieldErrorWithoutFieldSaysWhatIsWrong(t *testing.T) {
	err := &FieldError{Reason: "unterminated array", Err: ErrSyntax}
	assert.Equal(t, "schemas: malformed input: unterminated array", err.Error())
	err = &FieldError{Field: "ts", Reason: "is required", Err: ErrMissing}
	assert.Equal(t, `field "ts": is required`, err.Error())
}
