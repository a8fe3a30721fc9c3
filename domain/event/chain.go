package event

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// Digest returns the SHA-256 of an event's content: its CloudEvents context
// attributes, extensions and data, in a fixed order, without its position (which
// the log assigns and which differs between logs holding the same events).
// Two events have the same digest exactly when they say the same thing.
func Digest(e *Envelope) string {
	h := sha256.New()
	var buf []byte
	field := func(s string) {
		buf = strconv.AppendInt(buf[:0], int64(len(s)), 10)
		buf = append(buf, ':')
		buf = append(buf, s...)
		h.Write(buf)
	}
	field(e.ID)
	field(e.Source)
	field(e.SpecVersion)
	field(e.Type)
	field(e.Subject)
	field(e.Time.UTC().Format("2006-01-02T15:04:05.000000000Z"))
	field(e.DataContentType)
	field(e.DataSchema)
	field(e.Actor)
	field(e.Commit)
	field(e.CorrelationID)
	writeCanonicalJSON(h, e.Data)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// GenesisLink is the chain link before the first event of a log.
const GenesisLink = "0000000000000000000000000000000000000000000000000000000000000000"

// Link returns the chain link of an event that follows the link prev: the
// SHA-256 of prev and the event's digest. Each link depends on every event
// before it, so an event altered, removed, inserted or moved changes the link
// of every event from there on.
func Link(prev string, e *Envelope) string {
	return LinkDigest(prev, Digest(e))
}

// LinkDigest returns the chain link of an event whose Digest is digest and
// that follows the link prev: Link with the digest computed beforehand, so a
// verifier can compute the digests of many events at once, on every core,
// and try an event against several predecessors without hashing it again.
func LinkDigest(prev, digest string) string {
	var buf [2*sha256.Size + 1 + 2*sha256.Size]byte
	b := append(append(append(buf[:0], prev...), ':'), digest...)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
