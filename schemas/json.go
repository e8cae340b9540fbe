package schemas

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// Decoder reads events from JSON. It is hand-written for the one flat shape
// of an event because decoding dominates `beckon eval` and ingest: it is
// several times faster than encoding/json (see BenchmarkDecodeEvent) and
// allocates only the strings it keeps. A Decoder reuses its buffers and is
// not safe for concurrent use; the zero value is ready.
type Decoder struct {
	buf     []byte            // scratch for strings with escapes
	widgets map[string]string // interned widget ids: few, repeated on every line
}

// BatchError says which event of a batch was bad.
type BatchError struct {
	Index int   // position in the JSON array
	Err   error // usually a *FieldError
}

func (e *BatchError) Error() string { return fmt.Sprintf("event %d: %v", e.Index, e.Err) }
func (e *BatchError) Unwrap() error { return e.Err }

// UnmarshalJSON decodes one event; see Decoder for the fast, reusable form.
func (e *Event) UnmarshalJSON(data []byte) error {
	var d Decoder
	return d.DecodeEvent(data, e)
}

// MarshalJSON encodes the event as one NDJSON object (without newline).
func (e Event) MarshalJSON() ([]byte, error) {
	return AppendEventJSON(nil, &e), nil
}

// DecodeEvent decodes one JSON object into ev, which it resets first. It
// checks the syntax and the type of each field, not the rules of SPEC §1:
// call ev.Validate for those.
func (d *Decoder) DecodeEvent(data []byte, ev *Event) error {
	return d.decodeEvent(data, ev, false)
}

// DecodeEventBorrowed is DecodeEvent without a copy of each string: the
// event's strings alias data, so they are valid only while data's bytes
// stay unchanged. It is for readers that keep the bytes for as long as the
// event (see RecordingReader.NextBorrowed): one copy of a line instead of
// an allocation a field.
func (d *Decoder) DecodeEventBorrowed(data []byte, ev *Event) error {
	return d.decodeEvent(data, ev, true)
}

func (d *Decoder) decodeEvent(data []byte, ev *Event, borrow bool) error {
	*ev = Event{}
	s := scanner{data: data, d: d, borrow: borrow}
	s.skipSpace()
	if err := s.object(ev); err != nil {
		return err
	}
	s.skipSpace()
	if s.pos != len(s.data) {
		return syntax("", "unexpected data after the event object")
	}
	return nil
}

// DecodeBatch decodes a JSON object (one event) or an array of objects,
// appending to dst. An error in one element is a *BatchError.
func (d *Decoder) DecodeBatch(data []byte, dst []Event) ([]Event, error) {
	s := scanner{data: data, d: d}
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '{' {
		var ev Event
		if err := s.object(&ev); err != nil {
			return dst, err
		}
		s.skipSpace()
		if s.pos != len(s.data) {
			return dst, syntax("", "unexpected data after the event object")
		}
		return append(dst, ev), nil
	}
	if s.pos >= len(s.data) || s.data[s.pos] != '[' {
		return dst, syntax("", "body must be a JSON object or an array of objects")
	}
	s.pos++
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
	} else {
		for i := 0; ; i++ {
			s.skipSpace()
			var ev Event
			if err := s.object(&ev); err != nil {
				return dst, &BatchError{Index: i, Err: err}
			}
			dst = append(dst, ev)
			s.skipSpace()
			if s.pos >= len(s.data) {
				return dst, syntax("", "unterminated array")
			}
			c := s.data[s.pos]
			s.pos++
			if c == ']' {
				break
			}
			if c != ',' {
				return dst, syntax("", "expected , or ] in array")
			}
		}
	}
	s.skipSpace()
	if s.pos != len(s.data) {
		return dst, syntax("", "unexpected data after the array")
	}
	return dst, nil
}

type scanner struct {
	data   []byte
	pos    int
	d      *Decoder
	borrow bool // strings that are in data alias it (DecodeEventBorrowed)
}

// str makes a field's string: a copy, or when borrowing and raw lies in the
// input (no escapes were undone), the input's own bytes.
func (s *scanner) str(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	if s.borrow {
		p, base := uintptr(unsafe.Pointer(&raw[0])), uintptr(unsafe.Pointer(&s.data[0]))
		if p >= base && p < base+uintptr(len(s.data)) {
			return unsafe.String(&raw[0], len(raw))
		}
	}
	return string(raw)
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) object(ev *Event) error {
	if s.pos >= len(s.data) || s.data[s.pos] != '{' {
		return syntax("", "expected a JSON object")
	}
	s.pos++
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	next := fID // the key expected next, in the order AppendEventJSON writes them
	for {
		s.skipSpace()
		field, ok := s.knownKey(next)
		if !ok {
			key, err := s.stringBytes("")
			if err != nil {
				return err
			}
			field = fieldOf(key)
			s.skipSpace()
			if s.pos >= len(s.data) || s.data[s.pos] != ':' {
				return syntax("", "expected : after a key")
			}
			s.pos++
		}
		next = field + 1
		s.skipSpace()
		if err := s.value(field, ev); err != nil {
			return err
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return syntax("", "unterminated object")
		}
		c := s.data[s.pos]
		s.pos++
		if c == '}' {
			return nil
		}
		if c != ',' {
			return syntax("", "expected , or } in object")
		}
	}
}

type field uint8

const (
	fUnknown field = iota
	fID
	fType
	fWidget
	fVisitor
	fTS
	fURL
	fReferrer
	fTitle
	fName
	fClientTS
	fSentTS
)

var fieldNames = [...]string{"", "id", "type", "widget_id", "visitor_id", "ts", "url", "referrer", "title", "name", "client_ts", "sent_ts"}

// keyLiterals are the keys as compact JSON writes them, colon included.
var keyLiterals = func() (lits [len(fieldNames)]string) {
	for f, name := range fieldNames[1:] {
		lits[f+1] = `"` + name + `":`
	}
	return lits
}()

// knownKey reads a key of the event and its colon, written as compact JSON
// writes them — the common case, where the key is most often the one
// expected next — without scanning it as a string. ok is false for
// anything else, which the caller reads the long way.
func (s *scanner) knownKey(expected field) (field, bool) {
	rest := s.data[s.pos:]
	if len(rest) < 5 || rest[0] != '"' { // "ts": is the shortest
		return 0, false
	}
	if expected < field(len(keyLiterals)) && bytes.HasPrefix(rest, []byte(keyLiterals[expected])) {
		s.pos += len(keyLiterals[expected])
		return expected, true
	}
	for f := fID; f < field(len(keyLiterals)); f++ {
		if bytes.HasPrefix(rest, []byte(keyLiterals[f])) {
			s.pos += len(keyLiterals[f])
			return f, true
		}
	}
	return 0, false
}

func fieldOf(key []byte) field {
	switch string(key) { // the compiler does not allocate for this conversion
	case "id":
		return fID
	case "type":
		return fType
	case "widget_id":
		return fWidget
	case "visitor_id":
		return fVisitor
	case "ts":
		return fTS
	case "url":
		return fURL
	case "referrer":
		return fReferrer
	case "title":
		return fTitle
	case "name":
		return fName
	case "client_ts":
		return fClientTS
	case "sent_ts":
		return fSentTS
	}
	return fUnknown
}

func (s *scanner) value(f field, ev *Event) error {
	if s.pos >= len(s.data) {
		return syntax(fieldNames[f], "missing value")
	}
	c := s.data[s.pos]
	if f == fUnknown {
		return s.skipValue(0)
	}
	name := fieldNames[f]
	if c == 'n' {
		return s.literal("null", name)
	}
	if c != '"' {
		return syntax(name, "must be a string")
	}
	if f == fTS && s.pos+25 < len(s.data) && s.data[s.pos+25] == '"' {
		// The fixed form of a time, checked character by character, needs
		// no scan for escapes.
		if ms, ok := parseFixedMillis(s.data[s.pos+1 : s.pos+25]); ok {
			ev.TS = ms
			s.pos += 26
			return nil
		}
	}
	raw, err := s.stringBytes(name)
	if err != nil {
		return err
	}
	switch f {
	case fTS, fClientTS, fSentTS:
		ms, ok := ParseTime(raw)
		if !ok {
			return invalid(name, "must be an RFC 3339 time such as 2026-11-23T10:00:00.000Z")
		}
		ev.setTime(f, ms)
	case fType:
		ev.Type = eventType(raw)
	case fWidget:
		ev.WidgetID = s.d.internWidget(raw)
	default:
		ev.setString(f, s.str(raw))
	}
	return nil
}

// setTime sets the time field f (ts, client_ts, sent_ts) of every decoder.
func (e *Event) setTime(f field, ms int64) {
	switch f {
	case fTS:
		e.TS = ms
	case fClientTS:
		e.ClientTS = ms
	case fSentTS:
		e.SentTS = ms
	}
}

// setString sets the string field f of every decoder, but type, which each
// reads without making a string (eventType).
func (e *Event) setString(f field, v string) {
	switch f {
	case fID:
		e.ID = v
	case fWidget:
		e.WidgetID = v
	case fVisitor:
		e.VisitorID = v
	case fURL:
		e.URL = v
	case fReferrer:
		e.Referrer = v
	case fTitle:
		e.Title = v
	case fName:
		e.Name = v
	}
}

func eventType(raw []byte) EventType {
	switch string(raw) {
	case "page_view":
		return PageView
	case "heartbeat":
		return Heartbeat
	case "event":
		return Custom
	case "leave":
		return Leave
	case "tick":
		return Tick
	}
	return EventType(raw)
}

func (d *Decoder) internWidget(raw []byte) string {
	if w, ok := d.widgets[string(raw)]; ok {
		return w
	}
	w := string(raw)
	if d.widgets == nil {
		d.widgets = make(map[string]string)
	}
	if len(d.widgets) < 4096 { // bounded: a flood of bogus ids must not grow it
		d.widgets[w] = w
	}
	return w
}

// stringBytes reads a JSON string at s.pos and returns its unescaped bytes,
// which alias either the input or the decoder's scratch buffer.
func (s *scanner) stringBytes(name string) ([]byte, error) {
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		return nil, syntax(name, "expected a string")
	}
	s.pos++
	start := s.pos
	ascii := true
	for {
		// Find the first byte that ends plain text — a quote, a backslash,
		// a control character or, until one is seen, a non-ASCII byte — a
		// word at a time.
		n := stringStop(s.data[s.pos:], ascii)
		s.pos += n
		if s.pos >= len(s.data) {
			return nil, syntax(name, "unterminated string")
		}
		switch c := s.data[s.pos]; {
		case c == '"':
			raw := s.data[start:s.pos]
			s.pos++
			if !ascii && !utf8.Valid(raw) {
				return []byte(string([]rune(string(raw)))), nil // U+FFFD for bad bytes, as encoding/json
			}
			return raw, nil
		case c == '\\':
			return s.escapedString(start, name)
		case c < 0x20:
			return nil, syntax(name, "control character in string")
		default: // c >= 0x80: UTF-8, checked as a whole at the end
			ascii = false
			s.pos++
		}
	}
}

// stringStop is the index in b of the first quote, backslash or control
// character, or, when ascii, of the first byte of those or at or above
// 0x80; len(b) if there is none.
func stringStop(b []byte, ascii bool) int {
	const ones, hi = 0x0101010101010101, 0x8080808080808080
	const quotes, slashes, spaces = 0x2222222222222222, 0x5c5c5c5c5c5c5c5c, 0x2020202020202020
	high := uint64(hi)
	if !ascii {
		high = 0
	}
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		// A zero byte of w^quotes or w^slashes, or a byte of w below 0x20,
		// sets its high bit here (the classic has-zero-byte test): exact at
		// the lowest such byte, which is the one wanted, as a borrow only
		// runs upwards from a byte that is found already.
		q, bs := w^quotes, w^slashes
		m := ((q-ones)&^q | (bs-ones)&^bs | (w-spaces)&^w | w&high) & hi
		if m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < 0x20 || (ascii && c >= 0x80) {
			return i
		}
	}
	return i
}

func (s *scanner) escapedString(start int, name string) ([]byte, error) {
	buf := append(s.d.buf[:0], s.data[start:s.pos]...)
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			s.d.buf = buf
			if !utf8.Valid(buf) {
				return []byte(string([]rune(string(buf)))), nil
			}
			return buf, nil
		case c < 0x20:
			return nil, syntax(name, "control character in string")
		case c != '\\':
			buf = append(buf, c)
			s.pos++
			continue
		}
		s.pos++
		if s.pos >= len(s.data) {
			break
		}
		e := s.data[s.pos]
		s.pos++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return nil, syntax(name, "bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(utf8.RuneError)
				if s.pos+1 < len(s.data) && s.data[s.pos] == '\\' && s.data[s.pos+1] == 'u' {
					save := s.pos
					s.pos += 2
					if lo, ok := s.hex4(); ok && utf16.DecodeRune(r, lo) != utf8.RuneError {
						r2 = utf16.DecodeRune(r, lo)
					} else {
						s.pos = save
					}
				}
				r = r2
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return nil, syntax(name, "bad escape in string")
		}
	}
	return nil, syntax(name, "unterminated string")
}

func (s *scanner) hex4() (rune, bool) {
	if s.pos+4 > len(s.data) {
		return 0, false
	}
	var r rune
	for _, c := range s.data[s.pos : s.pos+4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	s.pos += 4
	return r, true
}

func (s *scanner) literal(lit, name string) error {
	if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
		return syntax(name, "invalid literal")
	}
	s.pos += len(lit)
	return nil
}

// skipValue skips any JSON value, checking its syntax; depth bounds nesting.
func (s *scanner) skipValue(depth int) error {
	if depth > 64 {
		return syntax("", "nesting too deep")
	}
	if s.pos >= len(s.data) {
		return syntax("", "missing value")
	}
	switch c := s.data[s.pos]; {
	case c == '"':
		_, err := s.stringBytes("")
		return err
	case c == '{' || c == '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		s.pos++
		s.skipSpace()
		if s.pos < len(s.data) && s.data[s.pos] == end {
			s.pos++
			return nil
		}
		for {
			s.skipSpace()
			if c == '{' {
				if _, err := s.stringBytes(""); err != nil {
					return err
				}
				s.skipSpace()
				if s.pos >= len(s.data) || s.data[s.pos] != ':' {
					return syntax("", "expected : after a key")
				}
				s.pos++
				s.skipSpace()
			}
			if err := s.skipValue(depth + 1); err != nil {
				return err
			}
			s.skipSpace()
			if s.pos >= len(s.data) {
				return syntax("", "unterminated value")
			}
			n := s.data[s.pos]
			s.pos++
			if n == end {
				return nil
			}
			if n != ',' {
				return syntax("", "expected , in object or array")
			}
		}
	case c == 't':
		return s.literal("true", "")
	case c == 'f':
		return s.literal("false", "")
	case c == 'n':
		return s.literal("null", "")
	default:
		return s.number()
	}
}

// number skips a number of exactly the JSON grammar
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, whatever its magnitude, as
// encoding/json does: ParseFloat would accept "+1", ".5" and "01" and reject
// 1e400.
func (s *scanner) number() error {
	if s.pos < len(s.data) && s.data[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos < len(s.data) && s.data[s.pos] == '0':
		s.pos++
	case s.digits() == 0:
		return syntax("", "invalid number")
	}
	if s.pos < len(s.data) && s.data[s.pos] == '.' {
		s.pos++
		if s.digits() == 0 {
			return syntax("", "invalid number")
		}
	}
	if s.pos < len(s.data) && (s.data[s.pos] == 'e' || s.data[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.data) && (s.data[s.pos] == '+' || s.data[s.pos] == '-') {
			s.pos++
		}
		if s.digits() == 0 {
			return syntax("", "invalid number")
		}
	}
	return nil
}

// digits skips decimal digits and says how many there were.
func (s *scanner) digits() int {
	start := s.pos
	for s.pos < len(s.data) && '0' <= s.data[s.pos] && s.data[s.pos] <= '9' {
		s.pos++
	}
	return s.pos - start
}

// AppendEventJSON appends the event as a JSON object, fields in SPEC order,
// empty fields left out.
func AppendEventJSON(b []byte, e *Event) []byte {
	b = append(b, '{')
	first := true
	str := func(k, v string) {
		if v == "" {
			return
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, `":`...)
		b = appendString(b, v)
	}
	tm := func(k string, ms int64) {
		if ms == 0 {
			return
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, `":"`...)
		b = AppendTime(b, ms)
		b = append(b, '"')
	}
	str("id", e.ID)
	str("type", string(e.Type))
	str("widget_id", e.WidgetID)
	str("visitor_id", e.VisitorID)
	tm("ts", e.TS)
	str("url", e.URL)
	str("referrer", e.Referrer)
	str("title", e.Title)
	str("name", e.Name)
	tm("client_ts", e.ClientTS)
	tm("sent_ts", e.SentTS)
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaping as encoding/json does
// (without its HTML escaping, which NDJSON does not need).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
