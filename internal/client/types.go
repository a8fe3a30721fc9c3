package client

import (
	"encoding/json"
	"time"

	"backlot.dev/backlot/domain/event"
)

// The types below are the client's own copies of what the server sends and
// takes, field for field in JSON; a test of the server package checks that
// each decodes the server's values without loss, so the client links none of
// the server's packages.

// Location is a registered location as GET /api/catalog/locations answers it.
type Location struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Target string `json:"target"`
}

// FacetCount is one value of a facet and how many entities have it.
type FacetCount struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Pos is a place in the event log: a partition and a position in it.
type Pos struct {
	Partition int32 `json:"partition"`
	Position  int64 `json:"position"`
}

// Mark is an event's place in the log and its time.
type Mark struct {
	Pos
	// Time is the event's time.
	Time time.Time `json:"time"`
}

// Version is one version of an entity, as the history endpoints answer it.
type Version struct {
	// Key is the lower-case ref; Ref the display ref.
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
	// Removed is set for a version that records a removal.
	Removed bool `json:"removed,omitempty"`
	// Body is the entity as the event carried it; nil for a removal.
	Body json.RawMessage `json:"body,omitempty"`
	// Hash is the SHA-256 of Body as the event stated it; empty for a removal.
	Hash string `json:"hash,omitempty"`
	// EventID and EventType identify the event that made the version.
	EventID   string `json:"eventId"`
	EventType string `json:"eventType"`
	// Actor is the event's actor.
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

// Badge is one policy's verdict on one entity.
type Badge struct {
	// Entity is the entity's key (its lower-case ref).
	Entity string `json:"entity"`
	// Owner is the entity's owner ref, "" when it has none.
	Owner string `json:"owner,omitempty"`
	// Policy is the policy's id.
	Policy string `json:"policy"`
	// Level is the highest level reached, "" for none; Rank is its index among
	// the policy's levels plus one, 0 for none.
	Level string `json:"level"`
	Rank  int    `json:"rank"`
	// Checks is every check's verdict.
	Checks []event.CheckOutcome `json:"checks"`
	// Campaigns lists the policy's campaigns that count the entity.
	Campaigns []string `json:"campaigns,omitempty"`
	// EntityHash is the hash of the rated entity body.
	EntityHash string `json:"entityHash,omitempty"`
	// Since is the event that made this verdict.
	Since Mark `json:"since"`
	// EventID is that event's id.
	EventID string `json:"eventId"`
}

// Failing returns the checks that did not pass.
func (b *Badge) Failing() []event.CheckOutcome {
	var out []event.CheckOutcome
	for _, c := range b.Checks {
		if !c.Passed {
			out = append(out, c)
		}
	}
	return out
}

// FactSet is the latest facts one source reported about an entity.
type FactSet struct {
	// Source names the reporting system.
	Source string `json:"source"`
	// Facts is the JSON object of facts by name.
	Facts json.RawMessage `json:"facts"`
	// ObservedAt is when the source observed them.
	ObservedAt time.Time `json:"observedAt"`
	// Position is the log position of the report.
	Position int64 `json:"position"`
}

// FactItem is one entry of a facts report: what a source observed about an entity.
type FactItem struct {
	// Entity is the entity's ref (kind:namespace/name; namespace defaults to default).
	Entity string `json:"entity"`
	// Source names the reporting system (ci, coverage, security, …).
	Source string `json:"source"`
	// Facts is a JSON object of facts by name.
	Facts json.RawMessage `json:"facts"`
	// ObservedAt is when the source observed them; zero means now.
	ObservedAt time.Time `json:"observedAt"`
}

// SubscriptionInput is what creates a webhook subscription.
type SubscriptionInput struct {
	URL    string `json:"url"`
	Filter string `json:"filter"`
	Secret string `json:"secret"`
}

// Subscription is a webhook subscription as the server shows it (never with
// its secret).
type Subscription struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Filter    string    `json:"filter,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	CreatedBy string    `json:"createdBy"`
	// Cursor is the position of the last event handled (on the embedded log).
	Cursor int64 `json:"cursor"`
	// Start is where the subscription began on a partitioned log.
	Start string `json:"start,omitempty"`
}

// DeadLetter is an event a subscription gave up delivering.
type DeadLetter struct {
	EventID string          `json:"eventId"`
	Reason  string          `json:"reason"`
	At      time.Time       `json:"at"`
	Event   json.RawMessage `json:"event"`
}

// EventQuery selects events of the raw log for AuditEvents.
type EventQuery struct {
	// Subject, Actor, Correlation: exact matches when set.
	Subject, Actor, Correlation string
	// Types matches any of these types when not empty.
	Types []string
	// From and To bound the event time: at or after From, before To.
	From, To time.Time
	// After is where to continue (the previous page's cursor).
	After event.Positions
	// Limit caps the page.
	Limit int
}

// FeedFilter selects the events StreamEvents delivers.
type FeedFilter struct {
	// Types matches any of these types when not empty.
	Types []string
	// Subject matches exactly this entity ref when set.
	Subject string
}

// errorBody is Backstage's error response body, as far as the client reads it.
type errorBody struct {
	Error struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	} `json:"error"`
}

// Paths of the server's APIs.
const (
	catalogPrefix    = "/api/catalog"
	auditPrefix      = "/api/audit"
	scaffolderPrefix = "/api/scaffolder/v2"
)

// facetsResponse is the body of GET /api/catalog/entity-facets.
type facetsResponse struct {
	Facets map[string][]FacetCount `json:"facets"`
}

// locationItem is one item of GET /api/catalog/locations.
type locationItem struct {
	Data Location `json:"data"`
}

// validateResponse is the 400 body of POST /api/catalog/validate-entity.
type validateResponse struct {
	Errors []struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	} `json:"errors"`
}

// verifyLine is one line of POST /api/audit/verify's answer: progress, the
// report, or an error.
type verifyLine struct {
	Progress *struct {
		Done  int64 `json:"done"`
		Total int64 `json:"total"`
	} `json:"progress,omitempty"`
	Report *event.VerifyReport `json:"report,omitempty"`
	Error  string              `json:"error,omitempty"`
}
