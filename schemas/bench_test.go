package schemas

import (
	"encoding/json"
	"testing"

	gojson "github.com/goccy/go-json"
	"github.com/stretchr/testify/require"
	"github.com/valyala/fastjson"
	"github.com/vmihailenco/msgpack/v5"
)

// benchLine is a realistic page_view as ingest writes it: about 200 bytes.
const benchLine = `{"id":"e1-184467","type":"page_view","widget_id":"shop","visitor_id":"v3kq9x1m2c8h7",` +
	`"ts":"2026-11-23T10:00:00.123Z","url":"https://shop.example/products/42",` +
	`"referrer":"https://www.google.com/","title":"Product 42 – Shop"}`

// taggedEvent is how an event decodes with a reflection-based library.
type taggedEvent struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	WidgetID  string `json:"widget_id"`
	VisitorID string `json:"visitor_id"`
	TS        string `json:"ts"`
	URL       string `json:"url"`
	Referrer  string `json:"referrer"`
	Title     string `json:"title"`
	Name      string `json:"name"`
	ClientTS  string `json:"client_ts"`
	SentTS    string `json:"sent_ts"`
}

// event converts, with the same time parsing as Decoder, so that every
// benchmark ends with the same Event and measures only the JSON work.
func (j *taggedEvent) event(ev *Event) bool {
	*ev = Event{ID: j.ID, Type: EventType(j.Type), WidgetID: j.WidgetID, VisitorID: j.VisitorID,
		URL: j.URL, Referrer: j.Referrer, Title: j.Title, Name: j.Name}
	var ok bool
	if ev.TS, ok = ParseTime([]byte(j.TS)); !ok {
		return false
	}
	return true
}

func wantBenchEvent(b *testing.B, ev *Event) {
	b.Helper()
	require.Equal(b, "https://shop.example/products/42", ev.URL)
	require.Equal(b, "Product 42 – Shop", ev.Title)
	require.Equal(b, int64(1795428000123), ev.TS)
}

func BenchmarkDecodeEvent(b *testing.B) {
	data := []byte(benchLine)
	var d Decoder
	var ev Event
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := d.DecodeEvent(data, &ev); err != nil {
			b.Fatal(err)
		}
	}
	wantBenchEvent(b, &ev)
}

func BenchmarkDecodeEventEncodingJSON(b *testing.B) {
	data := []byte(benchLine)
	var ev Event
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var j taggedEvent
		if err := json.Unmarshal(data, &j); err != nil || !j.event(&ev) {
			b.Fatal(err)
		}
	}
	wantBenchEvent(b, &ev)
}

func BenchmarkDecodeEventGoccyJSON(b *testing.B) {
	data := []byte(benchLine)
	var ev Event
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var j taggedEvent
		if err := gojson.Unmarshal(data, &j); err != nil || !j.event(&ev) {
			b.Fatal(err)
		}
	}
	wantBenchEvent(b, &ev)
}

func BenchmarkDecodeEventFastjson(b *testing.B) {
	data := []byte(benchLine)
	var p fastjson.Parser
	var ev Event
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		v, err := p.ParseBytes(data)
		if err != nil {
			b.Fatal(err)
		}
		o, err := v.Object()
		if err != nil {
			b.Fatal(err)
		}
		ev = Event{}
		var bad bool
		o.Visit(func(key []byte, v *fastjson.Value) {
			s, err := v.StringBytes()
			if err != nil {
				bad = true
				return
			}
			switch fieldOf(key) {
			case fID:
				ev.ID = string(s)
			case fType:
				ev.Type = eventType(s)
			case fWidget:
				ev.WidgetID = string(s)
			case fVisitor:
				ev.VisitorID = string(s)
			case fTS:
				ev.TS, _ = ParseTime(s)
			case fURL:
				ev.URL = string(s)
			case fReferrer:
				ev.Referrer = string(s)
			case fTitle:
				ev.Title = string(s)
			case fName:
				ev.Name = string(s)
			}
		})
		if bad {
			b.Fatal("not a string")
		}
	}
	wantBenchEvent(b, &ev)
}

func BenchmarkAppendEventJSON(b *testing.B) {
	var ev Event
	require.NoError(b, new(Decoder).DecodeEvent([]byte(benchLine), &ev))
	buf := make([]byte, 0, 512)
	b.SetBytes(int64(len(AppendEventJSON(nil, &ev))))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendEventJSON(buf[:0], &ev)
	}
}

func benchEvent(b *testing.B) Event {
	var ev Event
	require.NoError(b, new(Decoder).DecodeEvent([]byte(benchLine), &ev))
	return ev
}

func BenchmarkEventMsgpackEncode(b *testing.B) {
	ev := benchEvent(b)
	var buf byteBuffer
	enc := msgpack.NewEncoder(&buf)
	require.NoError(b, enc.Encode(&ev))
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = buf[:0]
		if err := enc.Encode(&ev); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEventMsgpackMarshal(b *testing.B) {
	ev := benchEvent(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := msgpack.Marshal(&ev); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEventMsgpackDecode(b *testing.B) {
	ev := benchEvent(b)
	data, err := msgpack.Marshal(&ev)
	require.NoError(b, err)
	var got Event
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := msgpack.Unmarshal(data, &got); err != nil {
			b.Fatal(err)
		}
	}
	require.Equal(b, ev, got)
}

// byteBuffer is the least io.Writer, so that the encode benchmark measures
// the encoder.
type byteBuffer []byte

func (w *byteBuffer) Write(p []byte) (int, error) { *w = append(*w, p...); return len(p), nil }

// BenchmarkDecodeEventBorrowed is the decoding of `beckon eval`: strings
// alias the line.
func BenchmarkDecodeEventBorrowed(b *testing.B) {
	data := []byte(benchLine)
	var d Decoder
	var ev Event
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := d.DecodeEventBorrowed(data, &ev); err != nil {
			b.Fatal(err)
		}
		if err := ev.Validate(true); err != nil {
			b.Fatal(err)
		}
	}
	wantBenchEvent(b, &ev)
}

// BenchmarkUnmarshalEvent is how the processors decode an event: by hand,
// bounds-checked, copying each string (Copy) or borrowing it (Borrowed).
func BenchmarkUnmarshalEvent(b *testing.B) {
	ev := benchEvent(b)
	data, err := msgpack.Marshal(&ev)
	require.NoError(b, err)
	for _, bc := range []struct {
		name string
		fn   func([]byte, *Event) error
	}{{"Copy", UnmarshalEvent}, {"Borrowed", UnmarshalEventBorrowed}} {
		b.Run(bc.name, func(b *testing.B) {
			var got Event
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := bc.fn(data, &got); err != nil {
					b.Fatal(err)
				}
			}
			require.Equal(b, ev, got)
		})
	}
}
