package event

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// NewTimeID returns a version 7 UUID (RFC 9562) for an event made at now: the
// Unix time in milliseconds first, then 74 random bits. Ids of later events
// ascend, so a log's unique index on event ids takes a burst of appends near
// its end, a few pages per append, where random (version 4) ids land each on
// its own page: once that index outgrows the page cache, every append with
// random ids rewrites a page per event.
func NewTimeID(now time.Time) string {
	var b [16]byte
	if _, err := rand.Read(b[6:]); err != nil {
		panic("event: crypto/rand failed: " + err.Error())
	}
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	b[6] = (b[6] & 0x0f) | 0x70
	b[8] = (b[8] & 0x3f) | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], b[10:16])
	return string(s[:])
}
