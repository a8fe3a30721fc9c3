package event

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
)

// Digest returns the SHA-256 of an event's content: its CloudEvents context
// attributes, extensions and data, in a fixed order, without its position (which
// the log assigns and which differs between logs holding the same events).
// Two events have the same digest exactly when they say the same thing.
func Digest(e *Envelope) string {
	h := sha256.New()
	field := func(s string) {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
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
	field(compactJSON(e.Data))
	return hex.EncodeToString(h.Sum(nil))
}

// compactJSON removes insignificant white space, so a log that re-encodes the
// data (PostgreSQL jsonb, a Kafka client) does not change the digest.
func compactJSON(raw json.RawMessage) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return string(raw)
	}
	return string(b)
}

// GenesisLink is the chain link before the first event of a log.
const GenesisLink = "0000000000000000000000000000000000000000000000000000000000000000"

// Link returns the chain link of an event that follows the link prev: the
// SHA-256 of prev and the event's digest. Each link depends on every event
// before it, so an event altered, removed, inserted or moved changes the link
// of every event from there on.
func Link(prev string, e *Envelope) string {
	h := sha256.Sum256([]byte(prev + ":" + Digest(e)))
	return hex.EncodeToString(h[:])
}
