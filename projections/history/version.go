package history

import (
	"encoding/json"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/fault"
)

// ErrNotFound is returned when a version does not exist.
var ErrNotFound = fault.Sentinel(fault.NotFound, "history: not found")

// ProjectionName is the name under which the history read model records its positions.
const ProjectionName = "history"

// Pos is a place in a partitioned log: a partition and a position in it. Log
// order is partition, then position.
type Pos struct {
	Partition int32 `json:"partition"`
	Position  int64 `json:"position"`
}

// Mark is when a version began or ended: the position of the event and its time.
type Mark struct {
	Pos
	// Time is the event's time (see the package comment for clocks that go back).
	Time time.Time `json:"time"`
}

// Version is one version of an entity.
type Version struct {
	// Key is the lower-case ref; Ref the display ref (kind and namespace lower
	// case, name as written).
	Key string `json:"key"`
	Ref string `json:"ref"`
	// UID is the entity's uid; for a generated Location entity, the location's id.
	UID string `json:"uid"`
	// Number counts the versions of Key from 1.
	Number int `json:"version"`
	// ValidFrom is the event that made this version.
	ValidFrom Mark `json:"validFrom"`
	// ValidTo is the event that made the next version; nil while this one is current.
	ValidTo *Mark `json:"validTo,omitempty"`
	// Removed is set for a version that records a removal: the entity did not
	// exist from ValidFrom to ValidTo.
	Removed bool `json:"removed,omitempty"`
	// Body is the entity as the event carried it (without uid, etag, relations
	// and status); nil for a removal.
	Body json.RawMessage `json:"body,omitempty"`
	// Hash is the SHA-256 of Body as the event stated it; empty for a removal.
	Hash string `json:"hash,omitempty"`
	// EventID and EventType identify the event that made the version.
	EventID   string `json:"eventId"`
	EventType string `json:"eventType"`
	// Actor is the event's actor: a user or token subject for API writes,
	// location:<id> for ingested files.
	Actor string `json:"actor,omitempty"`
	// CorrelationID is the event's correlation id.
	CorrelationID string `json:"correlationId,omitempty"`
	// LocationID is the location that owns the entity (or owned it, for a removal).
	LocationID string `json:"locationId,omitempty"`
	// ManagedBy is the file or URL the entity was read from (type:target).
	ManagedBy string `json:"managedBy,omitempty"`
	// Commit is the git commit the change was read at, when it came from git.
	Commit *event.Commit `json:"commit,omitempty"`
	// Digest is event.Digest of the event that made the version.
	Digest string `json:"digest"`
}

// EventDigest is what the history recorded of one applied event.
type EventDigest struct {
	// EventID is the event's id.
	EventID string `json:"eventId"`
	// Pos is where the log put it.
	Pos
	// Type and Subject repeat the event's.
	Type    string `json:"type"`
	Subject string `json:"subject"`
	// Digest is event.Digest of the event.
	Digest string `json:"digest"`
}
