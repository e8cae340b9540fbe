package schemas

import (
	"fmt"
	"unsafe"

	"github.com/vmihailenco/msgpack/v5"
)

// Events and invitations travel on NATS as msgpack maps keyed by the same
// names as their JSON, with times as int64 unix milliseconds. The methods
// below write and read those maps field by field, without reflection.

var (
	_ msgpack.CustomEncoder = (*Event)(nil)
	_ msgpack.CustomDecoder = (*Event)(nil)
	_ msgpack.CustomEncoder = (*Invitation)(nil)
	_ msgpack.CustomDecoder = (*Invitation)(nil)
)

// EncodeMsgpack writes the event's non-empty fields as a msgpack map.
func (e *Event) EncodeMsgpack(enc *msgpack.Encoder) error {
	n := 0
	for _, s := range [...]string{e.ID, string(e.Type), e.WidgetID, e.VisitorID, e.URL, e.Referrer, e.Title, e.Name} {
		if s != "" {
			n++
		}
	}
	for _, t := range [...]int64{e.TS, e.ClientTS, e.SentTS} {
		if t != 0 {
			n++
		}
	}
	w := mpWriter{enc: enc}
	w.err = enc.EncodeMapLen(n)
	w.str("id", e.ID)
	w.str("type", string(e.Type))
	w.str("widget_id", e.WidgetID)
	w.str("visitor_id", e.VisitorID)
	w.int("ts", e.TS)
	w.str("url", e.URL)
	w.str("referrer", e.Referrer)
	w.str("title", e.Title)
	w.str("name", e.Name)
	w.int("client_ts", e.ClientTS)
	w.int("sent_ts", e.SentTS)
	return w.err
}

// DecodeMsgpack reads an event map; unknown keys are skipped.
func (e *Event) DecodeMsgpack(dec *msgpack.Decoder) error {
	*e = Event{}
	n, err := dec.DecodeMapLen()
	if err != nil {
		return syntax("", fmt.Sprintf("event is not a msgpack map: %v", err))
	}
	for i := 0; i < n; i++ {
		key, err := dec.DecodeString()
		if err != nil {
			return syntax("", fmt.Sprintf("bad map key: %v", err))
		}
		f := fieldOf([]byte(key))
		switch f {
		case fTS, fClientTS, fSentTS:
			v, err := dec.DecodeInt64()
			if err != nil {
				return syntax(key, "must be an integer of unix milliseconds")
			}
			e.setTime(f, v)
		case fUnknown:
			if err := dec.Skip(); err != nil {
				return syntax(key, err.Error())
			}
		default:
			v, err := dec.DecodeString()
			if err != nil {
				return syntax(key, "must be a string")
			}
			if f == fType {
				e.Type = EventType(v)
			} else {
				e.setString(f, v)
			}
		}
	}
	return nil
}

// EncodeMsgpack writes every field of the invitation as a msgpack map.
func (inv *Invitation) EncodeMsgpack(enc *msgpack.Encoder) error {
	w := mpWriter{enc: enc, all: true}
	w.err = enc.EncodeMapLen(13)
	w.str("invitation_id", inv.InvitationID)
	w.str("widget_id", inv.WidgetID)
	w.str("visitor_id", inv.VisitorID)
	w.str("session_id", inv.SessionID)
	w.str("rule_id", inv.RuleID)
	w.str("rule_name", inv.RuleName)
	w.str("department", inv.Department)
	w.str("title", inv.Title)
	w.str("prompt", inv.Prompt)
	w.str("image_url", inv.ImageURL)
	w.int("at", inv.At)
	w.str("trigger", string(inv.Trigger))
	w.str("page_url", inv.PageURL)
	return w.err
}

// DecodeMsgpack reads an invitation map; unknown keys are skipped.
func (inv *Invitation) DecodeMsgpack(dec *msgpack.Decoder) error {
	*inv = Invitation{}
	n, err := dec.DecodeMapLen()
	if err != nil {
		return syntax("", fmt.Sprintf("invitation is not a msgpack map: %v", err))
	}
	for i := 0; i < n; i++ {
		key, err := dec.DecodeString()
		if err != nil {
			return syntax("", fmt.Sprintf("bad map key: %v", err))
		}
		if key == "at" {
			if inv.At, err = dec.DecodeInt64(); err != nil {
				return syntax(key, "must be an integer of unix milliseconds")
			}
			continue
		}
		var dst *string
		switch key {
		case "invitation_id":
			dst = &inv.InvitationID
		case "widget_id":
			dst = &inv.WidgetID
		case "visitor_id":
			dst = &inv.VisitorID
		case "session_id":
			dst = &inv.SessionID
		case "rule_id":
			dst = &inv.RuleID
		case "rule_name":
			dst = &inv.RuleName
		case "department":
			dst = &inv.Department
		case "title":
			dst = &inv.Title
		case "prompt":
			dst = &inv.Prompt
		case "image_url":
			dst = &inv.ImageURL
		case "page_url":
			dst = &inv.PageURL
		case "trigger":
			v, err := dec.DecodeString()
			if err != nil {
				return syntax(key, "must be a string")
			}
			inv.Trigger = Trigger(v)
			continue
		default:
			if err := dec.Skip(); err != nil {
				return syntax(key, err.Error())
			}
			continue
		}
		if *dst, err = dec.DecodeString(); err != nil {
			return syntax(key, "must be a string")
		}
	}
	return nil
}

// mpWriter writes map entries, keeping the first error.
type mpWriter struct {
	enc *msgpack.Encoder
	all bool // write empty values too
	err error
}

func (w *mpWriter) str(k, v string) {
	if w.err != nil || (v == "" && !w.all) {
		return
	}
	if w.err = w.enc.EncodeString(k); w.err == nil {
		w.err = w.enc.EncodeString(v)
	}
}

func (w *mpWriter) int(k string, v int64) {
	if w.err != nil || (v == 0 && !w.all) {
		return
	}
	if w.err = w.enc.EncodeString(k); w.err == nil {
		w.err = w.enc.EncodeInt(v)
	}
}

// UnmarshalEvent decodes a msgpack event as msgpack.Unmarshal does, after
// checking that no length in data claims more bytes than data holds. It is
// written by hand for the one flat shape of an event, since the processors
// decode every event: no allocation but the strings, and none for those
// with UnmarshalEventBorrowed. Prefer it to msgpack.Unmarshal for messages
// from the network: msgpack (v5.4.1) keeps the scratch buffer it grew for a
// length it could not read in its pooled decoders, so that each message
// with a length of gigabytes makes every later decode slower and the
// process larger. An extension header before the map, which msgpack skips
// whatever length it claims, is rejected too.
func UnmarshalEvent(data []byte, ev *Event) error { return unmarshalEvent(data, ev, false) }

// UnmarshalEventBorrowed is UnmarshalEvent without a copy of each string:
// the event's strings alias data, so they are valid only while data's
// bytes stay unchanged.
func UnmarshalEventBorrowed(data []byte, ev *Event) error { return unmarshalEvent(data, ev, true) }

func unmarshalEvent(data []byte, ev *Event, borrow bool) error {
	*ev = Event{}
	if err := checkMsgpackLengths(data); err != nil {
		return err
	}
	// Every length is within data from here on.
	c, p := data[0], 1
	var n int
	switch {
	case c == 0xc0: // nil: no fields
		return nil
	case 0x80 <= c && c <= 0x8f:
		n = int(c & 0x0f)
	case c == 0xde || c == 0xdf:
		n, p = mpUint(data, p, map8to32(c))
	default:
		return syntax("", fmt.Sprintf("event is not a msgpack map: code %#x", c))
	}
	for range n {
		key, q, ok := mpString(data, p)
		if !ok {
			return syntax("", fmt.Sprintf("bad map key: code %#x", data[p]))
		}
		p = q
		f := fieldOf(key)
		switch f {
		case fUnknown:
			p = skipMsgpack(data, p)
		case fTS, fClientTS, fSentTS:
			v, q, ok := mpInt(data, p)
			if !ok {
				return syntax(string(key), "must be an integer of unix milliseconds")
			}
			p = q
			ev.setTime(f, v)
		default:
			raw, q, ok := mpString(data, p)
			if !ok {
				return syntax(string(key), "must be a string")
			}
			p = q
			switch {
			case f == fType:
				ev.Type = eventType(raw)
			case len(raw) == 0:
				ev.setString(f, "")
			case borrow:
				ev.setString(f, unsafe.String(&raw[0], len(raw)))
			default:
				ev.setString(f, string(raw))
			}
		}
	}
	return nil
}

// mpString reads a str, a bin or nil (""), as msgpack's DecodeString, at
// p of data whose lengths are checked.
func mpString(data []byte, p int) (s []byte, next int, ok bool) {
	c := data[p]
	p++
	var n int
	switch {
	case c == 0xc0:
		return nil, p, true
	case 0xa0 <= c && c <= 0xbf:
		n = int(c & 0x1f)
	case c == 0xd9 || c == 0xda || c == 0xdb || c == 0xc4 || c == 0xc5 || c == 0xc6:
		n, p = mpUint(data, p, map8to32(c))
	default:
		return nil, p, false
	}
	return data[p : p+n], p + n, true
}

// mpInt reads an integer or nil (0), as msgpack's DecodeInt64, at p of data
// whose lengths are checked.
func mpInt(data []byte, p int) (v int64, next int, ok bool) {
	c := data[p]
	p++
	switch {
	case c <= 0x7f || c >= 0xe0: // fixints
		return int64(int8(c)), p, true
	case c == 0xc0:
		return 0, p, true
	case c >= 0xcc && c <= 0xd3:
		size := fixedSize(c)
		u, p := mpUint(data, p, size)
		switch c {
		case 0xd0:
			return int64(int8(u)), p, true
		case 0xd1:
			return int64(int16(u)), p, true
		case 0xd2:
			return int64(int32(u)), p, true
		}
		return int64(uint64(u)), p, true // uint8–64, int64
	}
	return 0, p, false
}

// mpUint reads a big-endian unsigned integer of size bytes at p.
func mpUint(data []byte, p, size int) (int, int) {
	var n uint64
	for _, b := range data[p : p+size] {
		n = n<<8 | uint64(b)
	}
	return int(n), p + size
}

// UnmarshalInvitation is UnmarshalEvent for an invitation.
func UnmarshalInvitation(data []byte, inv *Invitation) error {
	if err := checkMsgpackLengths(data); err != nil {
		*inv = Invitation{}
		return err
	}
	return msgpack.Unmarshal(data, inv)
}

// checkMsgpackLengths walks the first msgpack value in data without
// decoding it and fails when a string, binary, extension, array or map
// claims more than the bytes left. It neither allocates nor recurses.
func checkMsgpackLengths(data []byte) error {
	_, err := walkMsgpack(data, 0)
	return err
}

// skipMsgpack is the end of the value at p in data, whose lengths are
// checked (checkMsgpackLengths).
func skipMsgpack(data []byte, p int) int {
	end, _ := walkMsgpack(data, p)
	return end
}

// walkMsgpack walks the msgpack value at p in data and returns where it
// ends; see checkMsgpackLengths.
func walkMsgpack(data []byte, p int) (int, error) {
	pending := 1 // values still to walk
	for ; pending > 0; pending-- {
		if p >= len(data) {
			return p, syntax("", "msgpack value ends early")
		}
		c := data[p]
		p++
		var size, items int // bytes to skip; values to add
		switch {
		case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		case c <= 0x8f:
			items = 2 * int(c&0x0f)
		case c <= 0x9f:
			items = int(c & 0x0f)
		case c <= 0xbf:
			size = int(c & 0x1f)
		default:
			lenBytes := map8to32(c)
			if p+lenBytes > len(data) {
				return p, syntax("", "msgpack value ends early")
			}
			var n int
			n, p = mpUint(data, p, lenBytes)
			switch c {
			case 0xc4, 0xc5, 0xc6, 0xd9, 0xda, 0xdb: // bin, str
				size = n
			case 0xc7, 0xc8, 0xc9: // ext: type byte, then data
				size = n + 1
			case 0xdc, 0xdd: // array
				items = n
			case 0xde, 0xdf: // map
				items = 2 * n
			case 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3: // numbers
				size = fixedSize(c)
			case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext: type byte, then 1-16 bytes
				size = 1 + 1<<(c-0xd4)
			default: // 0xc1 is never used
				return p, syntax("", "msgpack code 0xc1 is never used")
			}
		}
		if size > len(data)-p || items > len(data)-p {
			return p, syntax("", "msgpack length beyond the end of the message")
		}
		p += size
		pending += items
	}
	return p, nil
}

// map8to32 is how many bytes of length follow a str, bin, ext, array or
// map code (0 for the other codes).
func map8to32(c byte) int {
	switch c {
	case 0xc4, 0xc7, 0xd9:
		return 1
	case 0xc5, 0xc8, 0xda, 0xdc, 0xde:
		return 2
	case 0xc6, 0xc9, 0xdb, 0xdd, 0xdf:
		return 4
	}
	return 0
}

// fixedSize is the size of the number after a float, uint or int code.
func fixedSize(c byte) int {
	switch c {
	case 0xcc, 0xd0:
		return 1
	case 0xcd, 0xd1:
		return 2
	case 0xca, 0xce, 0xd2:
		return 4
	}
	return 8
}
