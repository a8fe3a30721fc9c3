package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// SpecVersion is the CloudEvents specification version every Backlot event follows.
const SpecVersion = "1.0"

// ContentTypeJSON is the data content type of every Backlot event.
const ContentTypeJSON = "application/json"

// DefaultSource is the CloudEvents source of events written by a Backlot server.
const DefaultSource = "/backlot/catalog"

// Envelope is one event as stored in the log: the CloudEvents 1.0 context attributes,
// Backlot's extensions, the JSON data, and the position the log assigned to it.
//
// Position is zero until the log has appended the event; it is not part of the
// CloudEvents context and is carried beside it (as the offset on Kafka).
type Envelope struct {
	// ID identifies the event; it is unique within Source.
	ID string `json:"id"`
	// Source names the producer, for example /backlot/catalog.
	Source string `json:"source"`
	// SpecVersion is always SpecVersion.
	SpecVersion string `json:"specversion"`
	// Type is a versioned event type such as backlot.entity.upserted.v1.
	Type string `json:"type"`
	// Subject is the entity reference the event concerns, in its canonical
	// lower-case form (component:default/checkout).
	Subject string `json:"subject"`
	// Time is when the change was observed, in UTC.
	Time time.Time `json:"time"`
	// DataContentType is always application/json.
	DataContentType string `json:"datacontenttype"`
	// DataSchema names the JSON Schema of Data.
	DataSchema string `json:"dataschema,omitempty"`
	// Actor is who made the change: a user or token subject (user:default/guest)
	// for API writes, or location:<id> for ingested files.
	Actor string `json:"actor,omitempty"`
	// Commit is the commit SHA an ingested file was read at, when it came from git.
	Commit string `json:"commit,omitempty"`
	// CorrelationID ties together the events caused by one request or refresh.
	CorrelationID string `json:"correlationid,omitempty"`
	// Data is the type-specific payload as JSON.
	Data json.RawMessage `json:"data"`
	// Position is the log position assigned on append; zero before. On a
	// partitioned log it counts within Partition (the Kafka offset plus one).
	Position int64 `json:"-"`
	// Partition is the log partition the event was appended to; always zero on
	// the embedded log.
	Partition int32 `json:"-"`
}

// Validate reports the first missing or malformed context attribute.
func (e *Envelope) Validate() error {
	switch {
	case e.ID == "":
		return errors.New("event: id is required")
	case e.Source == "":
		return errors.New("event: source is required")
	case e.SpecVersion != SpecVersion:
		return fmt.Errorf("event %s: specversion must be %q, got %q", e.ID, SpecVersion, e.SpecVersion)
	case e.Type == "":
		return fmt.Errorf("event %s: type is required", e.ID)
	case e.Subject == "":
		return fmt.Errorf("event %s: subject is required", e.ID)
	case e.Time.IsZero():
		return fmt.Errorf("event %s: time is required", e.ID)
	case len(e.Data) == 0:
		return fmt.Errorf("event %s: data is required", e.ID)
	}
	return nil
}

// Decode unmarshals the envelope's data into v, naming the event on failure.
// The data of an old version of a type is first upcast to the newest version
// Backlot's upcasters reach (see Upcasters), so v is the newest version's
// payload; the envelope itself is not changed.
func (e *Envelope) Decode(v any) error {
	return builtin.Decode(e, v)
}
