package processor

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"unsafe"

	"github.com/beckon-chat/beckon/schemas"
)

// Ids are derived from the input alone, so that the same stream gives the
// same ids on every run, replay and restart (SPEC §5): the invitation id is
// the NATS de-duplication id that makes a re-processed stream publish
// nothing twice.

// idArena hands out the bytes of id strings from chunks, so that an
// invitation's ids cost no allocation of their own: a chunk is written once,
// id by id, and stays alive while any id carved from it does.
type idArena struct{ chunk []byte }

const idChunk = 16 << 10

// string returns a string of len(b) bytes holding b.
func (a *idArena) string(b []byte) string {
	if cap(a.chunk)-len(a.chunk) < len(b) {
		a.chunk = make([]byte, 0, max(idChunk, len(b)))
	}
	start := len(a.chunk)
	a.chunk = append(a.chunk, b...)
	return unsafe.String(&a.chunk[start], len(b))
}

// clone returns a copy of s.
func (a *idArena) clone(s string) string {
	if s == "" {
		return ""
	}
	return a.string(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// sessionID is derived from who the session belongs to and when it started.
func (a *idArena) sessionID(widget, visitor string, start int64) string {
	var in [320]byte
	b := append(in[:0], widget...)
	b = append(b, 0)
	b = append(b, visitor...)
	b = binary.BigEndian.AppendUint64(b, uint64(start))
	return a.hashID('s', b, 12)
}

// hashID is prefix and the hex of the first n bytes of in's sha256.
func (a *idArena) hashID(prefix byte, in []byte, n int) string {
	sum := sha256.Sum256(in)
	var out [1 + 2*sha256.Size]byte
	out[0] = prefix
	hex.Encode(out[1:], sum[:n])
	return a.string(out[:1+2*n])
}

// invitationID is unique per firing: at most one invitation per visitor,
// instant and trigger fires, and a once_per_page rule can fire again at the
// same instant only on another page of the session.
func (a *idArena) invitationID(session, rule string, page int32, at int64, trigger schemas.Trigger) string {
	var in [320]byte
	b := append(in[:0], session...)
	b = append(b, 0)
	b = append(b, rule...)
	b = append(b, 0)
	b = append(b, trigger...)
	b = binary.BigEndian.AppendUint64(b, uint64(at))
	b = binary.BigEndian.AppendUint32(b, uint32(page))
	return a.hashID('i', b, 16)
}
