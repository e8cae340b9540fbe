package processor

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"

	"github.com/beckon-chat/beckon/schemas"
)

// Ids are derived from the input alone, so that the same stream gives the
// same ids on every run, replay and restart (SPEC §5): the invitation id is
// the NATS de-duplication id that makes a re-processed stream publish
// nothing twice.

// sessionID is derived from who the session belongs to and when it started.
func sessionID(widget, visitor string, start int64) string {
	h := sha256.New()
	h.Write([]byte(widget))
	h.Write([]byte{0})
	h.Write([]byte(visitor))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(start))
	h.Write(b[:])
	var sum [sha256.Size]byte
	return "s" + hex.EncodeToString(h.Sum(sum[:0])[:12])
}

// invitationID is unique per firing: at most one invitation per visitor,
// instant and trigger fires, and a once_per_page rule can fire again at the
// same instant only on another page of the session.
func invitationID(session, rule string, page int32, at int64, trigger schemas.Trigger) string {
	h := sha256.New()
	h.Write([]byte(session))
	h.Write([]byte{0})
	h.Write([]byte(rule))
	h.Write([]byte{0})
	h.Write([]byte(trigger))
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], uint64(at))
	binary.BigEndian.PutUint32(b[8:], uint32(page))
	h.Write(b[:])
	var sum [sha256.Size]byte
	return "i" + hex.EncodeToString(h.Sum(sum[:0])[:16])
}
