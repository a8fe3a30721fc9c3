package event

import (
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"time"
)

// Meta carries the context attributes shared by the events of one change.
type Meta struct {
	// Actor is who made the change (see Envelope.Actor).
	Actor string
	// Commit is the git commit SHA for ingested changes.
	Commit string
	// CorrelationID ties the events of one request or refresh together.
	CorrelationID string
	// Time is when the change was observed; zero means now.
	Time time.Time
	// Source overrides DefaultSource.
	Source string
}

// New builds an envelope of type t about subject, with data marshalled as JSON and a
// fresh random id.
func New(t Type, subject string, data any, m Meta) (Envelope, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Envelope{}, fmt.Errorf("event %s %s: marshal data: %w", t, subject, err)
	}
	at := m.Time
	if at.IsZero() {
		at = time.Now()
	}
	src := m.Source
	if src == "" {
		src = DefaultSource
	}
	return Envelope{
		ID:              NewID(),
		Source:          src,
		SpecVersion:     SpecVersion,
		Type:            string(t),
		Subject:         subject,
		Time:            at.UTC(),
		DataContentType: ContentTypeJSON,
		DataSchema:      t.SchemaURI(),
		Actor:           m.Actor,
		Commit:          m.Commit,
		CorrelationID:   m.CorrelationID,
		Data:            raw,
	}, nil
}

// NewID returns a version 7 UUID (RFC 9562) of the present instant; see
// NewTimeID.
func NewID() string { return NewTimeID(time.Now()) }

// NameID returns the version 5 (SHA-1, URL namespace) UUID of name: the same
// id for the same name, so an event appended again after a retry carries
// the id of the first attempt and consumers can drop it.
func NameID(name string) string {
	h := sha1.New()
	h.Write(urlNamespace[:])
	h.Write([]byte(name))
	b := h.Sum(nil)[:16]
	b[6] = (b[6] & 0x0f) | 0x50
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// urlNamespace is RFC 4122's URL namespace, 6ba7b811-9dad-11d1-80b4-00c04fd430c8.
var urlNamespace = [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
