package schemas

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

func TestEventMsgpackRoundTrips(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
	}{
		{"every field", Event{
			ID: "e1", Type: PageView, WidgetID: "shop", VisitorID: "v1", TS: 1795428000123,
			URL: "https://shop.example/", Referrer: "https://google.com/", Title: "Shop ☕",
			Name: "n", ClientTS: 1795427999000, SentTS: -5,
		}},
		{"tick", Event{Type: Tick, TS: 1795428000000}},
		{"empty", Event{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := msgpack.Marshal(&tt.ev)
			require.NoError(t, err)
			got := Event{ID: "stale", Title: "stale"}
			require.NoError(t, msgpack.Unmarshal(b, &got))
			assert.Equal(t, tt.ev, got)
		})
	}
}

func TestEventMsgpackUsesJSONNamesAndIntegerTimes(t *testing.T) {
	ev := Event{Type: Heartbeat, WidgetID: "shop", TS: 1795428000000}
	b, err := msgpack.Marshal(&ev)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, msgpack.Unmarshal(b, &m))
	assert.Len(t, m, 3)
	assert.Equal(t, "heartbeat", m["type"])
	assert.Equal(t, "shop", m["widget_id"])
	assert.EqualValues(t, int64(1795428000000), m["ts"], "ts is an integer of unix milliseconds")
}

func TestEventMsgpackSkipsUnknownKeys(t *testing.T) {
	b, err := msgpack.Marshal(map[string]any{
		"type": "event", "name": "add_to_cart", "ts": 7,
		"extra": map[string]any{"nested": []any{1, "x", nil}}, "n": 3.5,
	})
	require.NoError(t, err)
	var ev Event
	require.NoError(t, msgpack.Unmarshal(b, &ev))
	assert.Equal(t, Event{Type: Custom, Name: "add_to_cart", TS: 7}, ev)
}

func TestEventMsgpackErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name  string
		in    map[string]any
		field string
	}{
		{"ts as a string", map[string]any{"ts": "2026-11-23T10:00:00.000Z"}, "ts"},
		{"url as a number", map[string]any{"url": 5}, "url"},
		{"type as a map", map[string]any{"type": map[string]any{}}, "type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := msgpack.Marshal(tt.in)
			require.NoError(t, err)
			var ev Event
			err = msgpack.Unmarshal(b, &ev)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrSyntax)
			var fe *FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.field, fe.Field)
		})
	}
}

func TestEventMsgpackRejectsNonMaps(t *testing.T) {
	for _, v := range []any{"x", 1, []any{1}} {
		b, err := msgpack.Marshal(v)
		require.NoError(t, err)
		var ev Event
		assert.ErrorIs(t, msgpack.Unmarshal(b, &ev), ErrSyntax)
	}
}

func sampleInvitation() Invitation {
	return Invitation{
		InvitationID: "inv-1", WidgetID: "shop", VisitorID: "v1", SessionID: "s1",
		RuleID: "pricing-help", RuleName: "Invitation to buy", Department: "sales",
		Title: "Let us help you", Prompt: "Do you need assistance?\n“Quotes”",
		ImageURL: "https://shop.example/agent.png", At: 1795428020001,
		Trigger: TriggerTimer, PageURL: "https://shop.example/pricing",
	}
}

func TestInvitationMsgpackRoundTrips(t *testing.T) {
	for _, inv := range []Invitation{sampleInvitation(), {}} {
		b, err := msgpack.Marshal(&inv)
		require.NoError(t, err)
		got := Invitation{Title: "stale"}
		require.NoError(t, msgpack.Unmarshal(b, &got))
		assert.Equal(t, inv, got)
	}
}

func TestInvitationMsgpackSkipsUnknownKeys(t *testing.T) {
	b, err := msgpack.Marshal(map[string]any{"rule_id": "r", "at": 5, "trigger": "event", "x": []any{1, 2}})
	require.NoError(t, err)
	var inv Invitation
	require.NoError(t, msgpack.Unmarshal(b, &inv))
	assert.Equal(t, Invitation{RuleID: "r", At: 5, Trigger: TriggerEvent}, inv)
}

func TestInvitationMsgpackErrorsNameTheField(t *testing.T) {
	for _, tt := range []struct {
		in    map[string]any
		field string
	}{
		{map[string]any{"at": "now"}, "at"},
		{map[string]any{"trigger": 1}, "trigger"},
		{map[string]any{"prompt": true}, "prompt"},
	} {
		b, err := msgpack.Marshal(tt.in)
		require.NoError(t, err)
		var inv Invitation
		err = msgpack.Unmarshal(b, &inv)
		var fe *FieldError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, tt.field, fe.Field)
	}
}

func TestUnmarshalEventDecodesLikeMsgpack(t *testing.T) {
	ev := Event{ID: "e1", Type: PageView, WidgetID: "shop", VisitorID: "v1", TS: 1795428000123, URL: "/"}
	b, err := msgpack.Marshal(&ev)
	require.NoError(t, err)
	var got Event
	require.NoError(t, UnmarshalEvent(b, &got))
	assert.Equal(t, ev, got)

	inv := sampleInvitation()
	b, err = msgpack.Marshal(&inv)
	require.NoError(t, err)
	var gotInv Invitation
	require.NoError(t, UnmarshalInvitation(b, &gotInv))
	assert.Equal(t, inv, gotInv)
}

func TestUnmarshalEventAcceptsEveryMsgpackValueKind(t *testing.T) {
	b, err := msgpack.Marshal(map[string]any{
		"type": "leave", "ts": int64(-1), "u8": uint8(200), "u16": uint16(60000), "u32": uint32(1 << 31),
		"u64": uint64(1 << 63), "i8": int8(-100), "i16": int16(-30000), "i32": int32(-1 << 30),
		"f32": float32(1.5), "f64": 2.5, "t": true, "f": false, "nil": nil,
		"bin": []byte(strings.Repeat("x", 300)), "str16": strings.Repeat("s", 300),
		"str32": strings.Repeat("s", 70000), "arr16": make([]int, 20), "map": map[string]any{"a": []any{map[string]any{}}},
		"time": time.Unix(1, 5), "ext": time.Unix(1<<40, 1),
	})
	require.NoError(t, err)
	var ev Event
	require.NoError(t, UnmarshalEvent(b, &ev))
	assert.Equal(t, Event{Type: Leave, TS: -1}, ev)
}

func TestUnmarshalEventRejectsLengthsBeyondTheMessage(t *testing.T) {
	for name, in := range map[string]string{
		"str32 of 4 GB":     "\x81\xa3url\xdb\xff\xff\xff\xff",
		"unknown bin32":     "\x81\xa1x\xc6\x7f\xff\xff\xff",
		"unknown ext32":     "\x81\xa1x\xc9\x7f\xff\xff\xff\x01",
		"array32 of 4 G":    "\x81\xa1x\xdd\xff\xff\xff\xff",
		"map32 of 4 G":      "\xdf\xff\xff\xff\xff",
		"truncated length":  "\x81\xa1x\xdb\xff",
		"fixstr too long":   "\x81\xbfx",
		"never-used code":   "\x81\xa1x\xc1",
		"empty":             "",
		"map missing value": "\x81\xa1x",
	} {
		t.Run(name, func(t *testing.T) {
			ev := Event{ID: "stale"}
			assert.ErrorIs(t, UnmarshalEvent([]byte(in), &ev), ErrSyntax)
			assert.Equal(t, Event{}, ev)
			var inv Invitation
			assert.ErrorIs(t, UnmarshalInvitation([]byte(in), &inv), ErrSyntax)
		})
	}
}

// A key given twice keeps its last value, empty or not, as msgpack's own
// decoder does.
func TestUnmarshalEventLastKeyWins(t *testing.T) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	require.NoError(t, enc.EncodeMapLen(4))
	for _, kv := range [][2]string{{"id", "x"}, {"url", "https://a/"}, {"id", ""}, {"url", "https://b/"}} {
		require.NoError(t, enc.EncodeString(kv[0]))
		require.NoError(t, enc.EncodeString(kv[1]))
	}
	var want Event
	require.NoError(t, msgpack.Unmarshal(buf.Bytes(), &want))
	for _, unmarshal := range []func([]byte, *Event) error{UnmarshalEvent, UnmarshalEventBorrowed} {
		var got Event
		require.NoError(t, unmarshal(buf.Bytes(), &got))
		require.Equal(t, want, got)
		require.Equal(t, Event{URL: "https://b/"}, got)
	}
}
