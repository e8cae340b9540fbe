package schemas

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ms is a test shorthand for a time that must parse.
func ms(t testing.TB, s string) int64 {
	t.Helper()
	v, ok := ParseTime([]byte(s))
	require.True(t, ok, "ParseTime(%q)", s)
	return v
}

func TestDecodeEventReadsEveryField(t *testing.T) {
	line := `{"id":"e1","type":"page_view","widget_id":"shop","visitor_id":"v-42",` +
		`"ts":"2026-11-23T10:00:00.123Z","url":"https://shop.example/pricing",` +
		`"referrer":"https://www.google.com/","title":"Pricing","name":"add_to_cart",` +
		`"client_ts":"2026-11-23T09:59:58.000Z","sent_ts":"2026-11-23T09:59:59.500Z"}`
	var d Decoder
	var ev Event
	require.NoError(t, d.DecodeEvent([]byte(line), &ev))
	assert.Equal(t, Event{
		ID: "e1", Type: PageView, WidgetID: "shop", VisitorID: "v-42",
		TS:       ms(t, "2026-11-23T10:00:00.123Z"),
		URL:      "https://shop.example/pricing",
		Referrer: "https://www.google.com/", Title: "Pricing", Name: "add_to_cart",
		ClientTS: ms(t, "2026-11-23T09:59:58.000Z"),
		SentTS:   ms(t, "2026-11-23T09:59:59.500Z"),
	}, ev)
}

func TestDecodeEventReadsEveryType(t *testing.T) {
	for _, typ := range []EventType{PageView, Heartbeat, Custom, Leave, Tick, "something_else"} {
		t.Run(string(typ), func(t *testing.T) {
			var ev Event
			require.NoError(t, new(Decoder).DecodeEvent([]byte(`{"type":"`+string(typ)+`"}`), &ev))
			assert.Equal(t, typ, ev.Type)
		})
	}
}

func TestDecodeEventUnescapesStrings(t *testing.T) {
	tests := []struct {
		name string
		json string // the JSON string literal, quotes included
		want string
	}{
		{"plain", `"abc"`, "abc"},
		{"newline and tab", `"a\nb\tc\r"`, "a\nb\tc\r"},
		{"quote backslash slash", `"\"\\\/"`, `"\/`},
		{"backspace formfeed", `"\b\f"`, "\b\f"},
		{"unicode escape", `"caf\u00e9"`, "café"},
		{"upper-case hex", `"\u00E9\u00C9"`, "éÉ"},
		{"raw utf-8", `"café ☕"`, "café ☕"},
		{"surrogate pair", `"\ud83d\ude00"`, "😀"},
		{"lone high surrogate", `"a\ud83db"`, "a\ufffdb"},
		{"lone low surrogate", `"\ude00"`, "\ufffd"},
		{"high surrogate then non-surrogate escape", `"\ud83d\u0041"`, "\ufffdA"},
		{"invalid utf-8 byte", "\"a\xffb\"", "a\ufffdb"},
		{"truncated utf-8 sequence", "\"\xe2\x82\"", "\ufffd\ufffd"},
		{"invalid utf-8 beside an escape", "\"\\n\xff\"", "\n\ufffd"},
		{"escaped nul", `"\u0000"`, "\x00"},
		{"line separator", `"\u2028"`, "\u2028"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev Event
			require.NoError(t, new(Decoder).DecodeEvent([]byte(`{"title":`+tt.json+`}`), &ev))
			assert.Equal(t, tt.want, ev.Title)
		})
	}
}

func TestDecodeEventUnescapesKeys(t *testing.T) {
	var ev Event
	require.NoError(t, new(Decoder).DecodeEvent([]byte(`{"\u0075rl":"/a","ti\u0074le":"T"}`), &ev))
	assert.Equal(t, "/a", ev.URL)
	assert.Equal(t, "T", ev.Title)
}

func TestDecodeEventSkipsUnknownFieldsOfAnyType(t *testing.T) {
	tests := []struct{ name, value string }{
		{"string", `"x"`},
		{"escaped string", `"a\"}\\"`},
		{"integer", `42`},
		{"negative float with exponent", `-1.5e-3`},
		{"huge number", `1e400`},
		{"true", `true`},
		{"false", `false`},
		{"null", `null`},
		{"empty object", `{}`},
		{"empty array", `[]`},
		{"nested object", `{"a":{"b":[1,{"c":"}"}]},"url":"not-ours"}`},
		{"nested array", `[[1,2],[{"x":null}],"]",[]]`},
		{"whitespace inside", " [ 1 , { \"a\" : 2 } ] "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := `{"type":"heartbeat","extra":` + tt.value + `,"url":"/ok"}`
			var ev Event
			require.NoError(t, new(Decoder).DecodeEvent([]byte(line), &ev))
			assert.Equal(t, Event{Type: Heartbeat, URL: "/ok"}, ev)
		})
	}
}

func TestDecodeEventTreatsNullAsAbsent(t *testing.T) {
	for _, f := range fieldNames[1:] {
		t.Run(f, func(t *testing.T) {
			var ev Event
			require.NoError(t, new(Decoder).DecodeEvent([]byte(`{"`+f+`":null}`), &ev))
			assert.Equal(t, Event{}, ev)
		})
	}
}

func TestDecodeEventLastDuplicateKeyWins(t *testing.T) {
	var ev Event
	require.NoError(t, new(Decoder).DecodeEvent([]byte(`{"url":"/a","url":"/b","title":"T","title":null}`), &ev))
	assert.Equal(t, "/b", ev.URL)
	assert.Equal(t, "T", ev.Title, "null leaves an earlier value alone, as encoding/json does")
}

func TestDecodeEventResetsTheEvent(t *testing.T) {
	ev := Event{ID: "old", Title: "old", TS: 5}
	require.NoError(t, new(Decoder).DecodeEvent([]byte(`{"type":"tick"}`), &ev))
	assert.Equal(t, Event{Type: Tick}, ev)
}

func TestDecodeEventAcceptsSurroundingWhitespace(t *testing.T) {
	var ev Event
	require.NoError(t, new(Decoder).DecodeEvent([]byte(" \t\r\n{ \"type\" : \"leave\" }\r\n"), &ev))
	assert.Equal(t, Leave, ev.Type)
}

func TestDecodeEventErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name  string
		line  string
		field string
		kind  error
	}{
		{"ts as a number", `{"ts":5}`, "ts", ErrSyntax},
		{"ts not a time", `{"ts":"yesterday"}`, "ts", ErrInvalid},
		{"ts impossible date", `{"ts":"2026-02-30T10:00:00.000Z"}`, "ts", ErrInvalid},
		{"client_ts not a time", `{"client_ts":"2026-11-23"}`, "client_ts", ErrInvalid},
		{"sent_ts as a bool", `{"sent_ts":true}`, "sent_ts", ErrSyntax},
		{"url as an object", `{"url":{}}`, "url", ErrSyntax},
		{"title as an array", `{"title":["x"]}`, "title", ErrSyntax},
		{"widget_id as a number", `{"widget_id":1}`, "widget_id", ErrSyntax},
		{"visitor_id as a bool", `{"visitor_id":false}`, "visitor_id", ErrSyntax},
		{"type as a number", `{"type":3}`, "type", ErrSyntax},
		{"name unterminated", `{"name":"abc`, "name", ErrSyntax},
		{"id bad escape", `{"id":"\x"}`, "id", ErrSyntax},
		{"referrer bad unicode escape", `{"referrer":"\u12"}`, "referrer", ErrSyntax},
		{"url control character", "{\"url\":\"a\nb\"}", "url", ErrSyntax},
		{"url bad literal", `{"url":nul}`, "url", ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev Event
			err := new(Decoder).DecodeEvent([]byte(tt.line), &ev)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.kind)
			var fe *FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.field, fe.Field)
			assert.Contains(t, err.Error(), `"`+tt.field+`"`)
		})
	}
}

func TestDecodeEventRejectsMalformedJSON(t *testing.T) {
	tests := []struct{ name, line string }{
		{"empty", ``},
		{"whitespace only", `   `},
		{"array", `[]`},
		{"string", `"x"`},
		{"unterminated object", `{"type":"tick"`},
		{"trailing comma", `{"type":"tick",}`},
		{"missing colon", `{"type" "tick"}`},
		{"missing comma", `{"type":"tick" "url":"x"}`},
		{"unquoted key", `{type:"tick"}`},
		{"trailing data", `{"type":"tick"} {}`},
		{"two objects", `{}{}`},
		{"unknown bad literal", `{"x":tru}`},
		{"unknown bad number", `{"x":1.2.3}`},
		{"unknown leading plus", `{"x":+1}`},
		{"unknown leading zero", `{"x":01}`},
		{"unknown bare fraction", `{"x":.5}`},
		{"unknown trailing dot", `{"x":1.}`},
		{"unknown empty exponent", `{"x":1e}`},
		{"unknown unterminated array", `{"x":[1,2}`},
		{"unknown mismatched brackets", `{"x":[1}]}`},
		{"unknown trailing comma in array", `{"x":[1,]}`},
		{"unknown object bad key", `{"x":{1:2}}`},
		{"nesting too deep", `{"x":` + nest(100) + `}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev Event
			err := new(Decoder).DecodeEvent([]byte(tt.line), &ev)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrSyntax)
		})
	}
}

func nest(depth int) string {
	b := make([]byte, 0, 2*depth)
	for i := 0; i < depth; i++ {
		b = append(b, '[')
	}
	for i := 0; i < depth; i++ {
		b = append(b, ']')
	}
	return string(b)
}

func TestUnmarshalJSONDecodesAnEvent(t *testing.T) {
	var ev Event
	require.NoError(t, ev.UnmarshalJSON([]byte(`{"type":"event","name":"video_played"}`)))
	assert.Equal(t, Event{Type: Custom, Name: "video_played"}, ev)
}

func TestDecodeBatch(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []Event
	}{
		{"one object", `{"type":"tick","ts":"2026-11-23T10:00:00.000Z"}`,
			[]Event{{Type: Tick, TS: 1795428000000}}},
		{"array of objects", ` [ {"type":"leave"} , {"type":"heartbeat","url":"/"} ] `,
			[]Event{{Type: Leave}, {Type: Heartbeat, URL: "/"}}},
		{"array of one", `[{"type":"leave"}]`, []Event{{Type: Leave}}},
		{"empty array", `[]`, nil},
		{"empty array with space", " [ \n ] ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := new(Decoder).DecodeBatch([]byte(tt.body), nil)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDecodeBatchAppendsToDst(t *testing.T) {
	dst := []Event{{ID: "kept"}}
	got, err := new(Decoder).DecodeBatch([]byte(`[{"id":"new"}]`), dst)
	require.NoError(t, err)
	assert.Equal(t, []Event{{ID: "kept"}, {ID: "new"}}, got)
}

func TestDecodeBatchErrorNamesTheElement(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		index int
		field string
	}{
		{"first element bad ts", `[{"ts":5},{"type":"tick"}]`, 0, "ts"},
		{"third element bad url", `[{},{},{"url":1}]`, 2, "url"},
		{"element is not an object", `[{},"x"]`, 1, ""},
		{"trailing comma", `[{},]`, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := new(Decoder).DecodeBatch([]byte(tt.body), nil)
			var be *BatchError
			require.ErrorAs(t, err, &be)
			assert.Equal(t, tt.index, be.Index)
			var fe *FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.field, fe.Field)
			assert.Contains(t, err.Error(), "event ")
		})
	}
}

func TestDecodeBatchRejectsOtherShapes(t *testing.T) {
	for _, body := range []string{``, `"x"`, `1`, `null`, `[`, `[{}`, `[{} {}]`, `[{}] x`, `{} x`, `{"ts":1}`} {
		t.Run(body, func(t *testing.T) {
			_, err := new(Decoder).DecodeBatch([]byte(body), nil)
			require.Error(t, err)
			var be *BatchError
			if !errors.As(err, &be) {
				assert.ErrorIs(t, err, ErrSyntax)
			}
		})
	}
}

func TestDecoderIsReusable(t *testing.T) {
	var d Decoder
	var ev Event
	require.NoError(t, d.DecodeEvent([]byte(`{"widget_id":"shop","title":"a\nb"}`), &ev))
	first := ev
	require.NoError(t, d.DecodeEvent([]byte(`{"widget_id":"docs","title":"c\td"}`), &ev))
	assert.Equal(t, Event{WidgetID: "shop", Title: "a\nb"}, first, "strings from a reused scratch buffer must not change")
	assert.Equal(t, Event{WidgetID: "docs", Title: "c\td"}, ev)
}

func TestAppendEventJSONRoundTrips(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
	}{
		{"page view", Event{
			ID: "e1", Type: PageView, WidgetID: "shop", VisitorID: "v1",
			TS: 1795428000123, URL: "https://shop.example/?q=a&b=<c>", Referrer: "https://google.com/",
			Title: "Shop — “best” prices", ClientTS: 1795427999000, SentTS: 1795428000001,
		}},
		{"custom event", Event{Type: Custom, WidgetID: "w", VisitorID: "v", TS: 1, Name: "payment_cancelled"}},
		{"tick", Event{Type: Tick, TS: 1795428000000}},
		{"empty", Event{}},
		{"control characters and quotes", Event{Title: "a\"b\\c\n\r\t\x00\x1f\u2028\u2029"}},
		{"emoji", Event{Title: "😀 ok"}},
		{"before the epoch", Event{TS: -86400000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := AppendEventJSON(nil, &tt.ev)
			var got Event
			require.NoError(t, new(Decoder).DecodeEvent(b, &got), "%s", b)
			assert.Equal(t, tt.ev, got)

			m, err := tt.ev.MarshalJSON()
			require.NoError(t, err)
			assert.Equal(t, b, m)
		})
	}
}

func TestAppendEventJSONWritesSpecOrderAndOmitsEmpty(t *testing.T) {
	ev := Event{Type: Heartbeat, WidgetID: "shop", VisitorID: "v1", TS: 1795428000000, URL: "/faq"}
	assert.Equal(t,
		`{"type":"heartbeat","widget_id":"shop","visitor_id":"v1","ts":"2026-11-23T10:00:00.000Z","url":"/faq"}`,
		string(AppendEventJSON(nil, &ev)))
}

func TestAppendEventJSONReplacesInvalidUTF8(t *testing.T) {
	ev := Event{Title: "a\xffb"}
	assert.Equal(t, `{"title":"a\ufffdb"}`, string(AppendEventJSON(nil, &ev)))
}
