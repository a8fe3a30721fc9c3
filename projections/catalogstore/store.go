package catalogstore

import (
	"context"
	"encoding/json"
	"errors"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/domain/refresh"
)

// ErrNotFound is returned when an entity or location does not exist.
var ErrNotFound = fault.Sentinel(fault.NotFound, "not found")

// ProjectionName is the name under which the catalog read model records its position.
const ProjectionName = "catalog"

// Relation is one relation as the API shows it on its source entity.
type Relation struct {
	Type      string `json:"type"`
	TargetRef string `json:"targetRef"`
}

// StatusItem is one entry of an entity's status.items, in Backstage's shape.
type StatusItem struct {
	Type    string          `json:"type"`
	Level   string          `json:"level"`
	Message string          `json:"message"`
	Error   StatusItemError `json:"error"`
}

// StatusItemError is the error part of a StatusItem.
type StatusItemError struct {
	Name    string `json:"name"`
	Message string `json:"message"`
	// Details carries the file, document, entity and field of the problem.
	Details *event.ProcessingError `json:"details,omitempty"`
}

// EntityView is an entity as the read model answers for it.
type EntityView struct {
	// Key is the lower-case ref.
	Key string
	// Ref is the display ref (kind and namespace lower case, name as written).
	Ref string
	// UID is the entity's identifier.
	UID string
	// LocationID is the registered location that owns the entity; empty for
	// generated Location entities.
	LocationID string
	// Body is the stored JSON, with metadata.uid and metadata.etag, without
	// relations and status.
	Body json.RawMessage
	// Relations are the relations whose source is this entity, sorted.
	Relations []Relation
	// Status are the processing errors that concern the entity.
	Status []StatusItem
}

// MarshalJSON renders the entity as Backstage's API does: the body with
// relations and, when there are any, status.items.
func (v EntityView) MarshalJSON() ([]byte, error) {
	rels := v.Relations
	if rels == nil {
		rels = []Relation{}
	}
	rj, err := json.Marshal(rels)
	if err != nil {
		return nil, err
	}
	body := v.Body
	if len(body) < 2 || body[len(body)-1] != '}' {
		return nil, errors.New("catalogstore: stored body is not a JSON object")
	}
	out := make([]byte, 0, len(body)+len(rj)+64)
	out = append(out, body[:len(body)-1]...)
	if len(body) > 2 {
		out = append(out, ',')
	}
	out = append(out, `"relations":`...)
	out = append(out, rj...)
	if len(v.Status) > 0 {
		sj, err := json.Marshal(map[string]any{"items": v.Status})
		if err != nil {
			return nil, err
		}
		out = append(out, `,"status":`...)
		out = append(out, sj...)
	}
	out = append(out, '}')
	return out, nil
}

// Location is a registered location.
type Location struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Target    string `json:"target"`
	EntityRef string `json:"-"`
}

// Condition matches entities whose search key has one of Values (compared
// case-insensitively), or, with no Values, that have the key at all.
type Condition struct {
	Key    string
	Values []string
}

// Filter is Backstage's filter: entities matching every condition of at least one
// of the conjunctions. An empty Filter matches every entity.
type Filter [][]Condition

// Order sorts by a field; ties break on the entity key.
type Order struct {
	Field string
	Desc  bool
}

// FullText matches entities where any of Fields (all fields when empty) contains Term.
type FullText struct {
	Term   string
	Fields []string
}

// Keyset is a position in an ordered result: the sort values and key of an item.
type Keyset struct {
	Values []string `json:"v"`
	Key    string   `json:"k"`
}

// PageQuery selects a page of entities.
type PageQuery struct {
	Filter   Filter
	FullText FullText
	Order    []Order
	// Offset skips items (only without After and Before).
	Offset int
	// Limit caps the page; zero or less means no limit.
	Limit int
	// After starts the page after this keyset.
	After *Keyset
	// Before ends the page before this keyset (a previous page).
	Before *Keyset
	// CountTotal asks for TotalItems.
	CountTotal bool
	// LocationID, when set, keeps only entities owned by that location.
	LocationID string
	// Decorate, when set, says which entities of the page get their relations
	// and status items; the others come with neither. It is called once per
	// entity of the page, in order, before any is decorated, on the caller's
	// goroutine. A reader that needs the relations of a few entities of each
	// page (a badge evaluation rates the entities its policies select) reads
	// no more than those. Nil decorates every entity.
	Decorate func(*EntityView) bool `json:"-"`
}

// Page is the answer to a PageQuery.
type Page struct {
	Items      []EntityView
	TotalItems int
	// First and Last are the keysets of the first and last items.
	First, Last *Keyset
	// HasNext and HasPrev say whether items exist after Last and before First.
	HasNext, HasPrev bool
}

// FacetCount is one value of a facet and how many entities have it.
type FacetCount struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Reader answers queries on the catalog read model.
type Reader interface {
	// Query returns a page of entities matching q.
	Query(ctx context.Context, q PageQuery) (Page, error)
	// ByKeys returns the entities with the given keys, in the same order, nil where missing.
	ByKeys(ctx context.Context, keys []string) ([]*EntityView, error)
	// ByUID returns the entity with the uid or ErrNotFound.
	ByUID(ctx context.Context, uid string) (*EntityView, error)
	// Facets counts the values of each facet over the entities matching f.
	Facets(ctx context.Context, facets []string, f Filter) (map[string][]FacetCount, error)
	// Locations lists the registered locations.
	Locations(ctx context.Context) ([]Location, error)
	// Location returns one location or ErrNotFound.
	Location(ctx context.Context, id string) (Location, error)
	// LocationByTarget returns the location with that type and target, or ErrNotFound.
	LocationByTarget(ctx context.Context, locType, target string) (Location, error)
	// LocationErrors returns a location's recorded processing errors.
	LocationErrors(ctx context.Context, id string) ([]event.ProcessingError, error)
	// Snapshot returns the decision state of the refresh package for one location.
	Snapshot(ctx context.Context, locationID string) (refresh.State, error)
	// Positions returns the last log position applied in each partition.
	Positions(ctx context.Context) (event.Positions, error)
}

// Store is the catalog read model: a Reader that applies events.
type Store interface {
	Reader
	// Apply folds the events into the read model in one transaction, together
	// with the position of the last one in each partition. Events at or below the
	// recorded position of their partition are skipped, so applying a batch twice
	// changes nothing.
	Apply(ctx context.Context, events []event.Envelope) error
	// Close releases the store.
	Close() error
}
