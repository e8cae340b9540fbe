package schemas

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

// seedEvents are realistic lines, plus a few that exercise the corners of
// the decoder, for the fuzz targets' seed corpora.
var seedEvents = []string{
	`{"id":"e1-1","type":"page_view","widget_id":"shop","visitor_id":"v0001","ts":"2026-11-23T10:00:00.000Z","url":"https://shop.example/","referrer":"https://www.google.com/","title":"Shop"}`,
	`{"id":"e1-2","type":"heartbeat","widget_id":"shop","visitor_id":"v0001","ts":"2026-11-23T10:00:10.000Z","url":"https://shop.example/"}`,
	`{"id":"e1-3","type":"heartbeat","widget_id":"shop","visitor_id":"v0001","ts":"2026-11-23T10:00:14.512Z","url":"https://shop.example/products/7","title":"Product 7"}`,
	`{"id":"e1-4","type":"event","widget_id":"shop","visitor_id":"v0001","ts":"2026-11-23T10:00:20.000Z","url":"https://shop.example/checkout","name":"payment_cancelled"}`,
	`{"id":"e1-5","type":"leave","widget_id":"shop","visitor_id":"v0001","ts":"2026-11-23T10:00:21.000Z"}`,
	`{"type":"tick","ts":"2026-11-23T10:00:30.000Z"}`,
	`{"type":"page_view","widget_id":"docs","visitor_id":"v2","ts":"2026-11-23T11:00:00.000+01:00","url":"/faq","client_ts":"2026-11-23T09:59:59Z","sent_ts":"2026-11-23T10:00:00.5Z"}`,
	`{"title":"caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \n","url":null,"extra":{"a":[1,-2.5e3,true,false,null,{"b":"}"}]}}`,
	"{\"title\":\"bad \xff utf-8\",\"Url\":\"case\",\"url\":\"/a\",\"url\":\"/b\"}",
	`[{"type":"leave"}]`,
	`{"ts":5}`,
	`{"x":1e400,"y":-0,"z":0.5E+2}`,
}

// refDecode decodes an event object with encoding/json the way Decoder is
// specified to: exact (case-sensitive) keys, strings only, null leaves the
// field alone, later duplicates win. ok is false when the object has a
// known field of the wrong type or a bad time.
func refDecode(t *testing.T, data []byte) (ev Event, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok)
	for dec.More() {
		tok, err := dec.Token()
		require.NoError(t, err)
		key := tok.(string)
		var raw json.RawMessage
		require.NoError(t, dec.Decode(&raw))
		f := fieldOf([]byte(key))
		if f == fUnknown || string(raw) == "null" {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return ev, false
		}
		switch f {
		case fTS, fClientTS, fSentTS:
			ms, ok := ParseTime([]byte(s))
			if !ok {
				return ev, false
			}
			*map[field]*int64{fTS: &ev.TS, fClientTS: &ev.ClientTS, fSentTS: &ev.SentTS}[f] = ms
		case fType:
			ev.Type = EventType(s)
		default:
			*map[field]*string{
				fID: &ev.ID, fWidget: &ev.WidgetID, fVisitor: &ev.VisitorID, fURL: &ev.URL,
				fReferrer: &ev.Referrer, fTitle: &ev.Title, fName: &ev.Name,
			}[f] = s
		}
	}
	return ev, true
}

// maxDepth is how deeply the input's arrays and objects nest.
func maxDepth(data []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

func FuzzDecodeEvent(f *testing.F) {
	for _, s := range seedEvents {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Decoder
		var ev Event
		err := d.DecodeEvent(data, &ev)

		// The borrowing decoder gives the same event and the same error.
		input := bytes.Clone(data)
		var borrowed Event
		berr := d.DecodeEventBorrowed(input, &borrowed)
		require.Equal(t, err == nil, berr == nil)
		if err == nil {
			require.Equal(t, ev, borrowed)
		}

		trimmed := bytes.TrimLeft(data, " \t\r\n")
		isObject := json.Valid(data) && len(trimmed) > 0 && trimmed[0] == '{'
		if err == nil {
			require.True(t, isObject, "decoded input that is not a JSON object")
		}
		if isObject && maxDepth(data) < 60 {
			want, ok := refDecode(t, data)
			require.Equal(t, ok, err == nil, "encoding/json disagrees; our error: %v", err)
			if ok {
				assert.Equal(t, want, ev)
			}
		}
		if err != nil {
			return
		}

		line := AppendEventJSON(nil, &ev)
		require.True(t, json.Valid(line), "%s", line)
		var back Event
		require.NoError(t, d.DecodeEvent(line, &back), "%s", line)
		require.Equal(t, ev, back)

		batch, err := d.DecodeBatch(data, nil)
		require.NoError(t, err)
		require.Equal(t, []Event{ev}, batch)
	})
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{
		"2026-11-23T10:00:00.000Z", "2024-02-29T23:59:59.999Z", "2026-02-30T10:00:00.000Z",
		"0000-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z", "2026-11-23T10:00:00Z",
		"2026-11-23T11:00:00.123456+01:00", "2026-11-23T10:00:00.000-00:00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseTime([]byte(s))
		want, err := time.Parse(time.RFC3339Nano, s)
		if _, fast := parseFixedMillis([]byte(s)); fast {
			require.NoError(t, err, "fast path accepted what time.Parse rejects")
		}
		if ok {
			require.NoError(t, err, "accepted what time.Parse rejects")
			require.Equal(t, want.UnixMilli(), got)
			back, ok := ParseTime([]byte(FormatTime(got)))
			require.True(t, ok, "cannot read back %s", FormatTime(got))
			require.Equal(t, got, back)
		} else if err == nil {
			m := want.UnixMilli()
			require.True(t, m < minMillis || m > maxMillis, "rejected a time time.Parse reads: %v", want)
		}
	})
}

func FuzzEventMsgpack(f *testing.F) {
	var d Decoder
	for _, s := range seedEvents {
		var ev Event
		if d.DecodeEvent([]byte(s), &ev) == nil {
			b, err := msgpack.Marshal(&ev)
			require.NoError(f, err)
			f.Add(b)
		}
	}
	inv := sampleInvitation()
	b, err := msgpack.Marshal(&inv)
	require.NoError(f, err)
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		// A fresh decoder per call: msgpack's pooled ones keep the buffers
		// that oversized lengths grow (see UnmarshalEvent).
		var want Event
		wantErr := msgpack.NewDecoder(bytes.NewReader(data)).Decode(&want)
		var ev Event
		err := UnmarshalEvent(data, &ev)
		var borrowed Event
		berr := UnmarshalEventBorrowed(bytes.Clone(data), &borrowed)
		require.Equal(t, err == nil, berr == nil)
		require.Equal(t, ev, borrowed)
		// msgpack reads an extension header before a map as if it were not
		// there, whatever length it claims; UnmarshalEvent rejects that.
		extWrapped := len(data) > 0 && (0xc7 <= data[0] && data[0] <= 0xc9 || 0xd4 <= data[0] && data[0] <= 0xd8)
		if wantErr == nil && !extWrapped {
			require.NoError(t, err, "UnmarshalEvent rejects what msgpack decodes")
			require.Equal(t, want, ev)
		}
		if err == nil {
			require.NoError(t, wantErr)
			b, err := msgpack.Marshal(&ev)
			require.NoError(t, err)
			var back Event
			require.NoError(t, UnmarshalEvent(b, &back))
			require.Equal(t, ev, back)
		}

		var inv Invitation
		if UnmarshalInvitation(data, &inv) == nil {
			b, err := msgpack.Marshal(&inv)
			require.NoError(t, err)
			var back Invitation
			require.NoError(t, UnmarshalInvitation(b, &back))
			require.Equal(t, inv, back)
		}
	})
}
