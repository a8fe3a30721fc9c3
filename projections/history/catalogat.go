package history

import (
	"context"
	"errors"
	"fmt"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/refresh"

	"backlot.dev/backlot/projections/catalogstore"
)

// ErrNoCatalogRows is returned by CatalogAt when the store cannot answer the
// catalog at that instant directly: it does not keep the catalog rows of its
// versions (yet: a store may start building them when asked), or the instant
// names log partitions it does not hold. The caller
// builds the catalog of the instant from Current instead.
var ErrNoCatalogRows = errors.New("history: the catalog rows of this instant are not kept")

// CatalogReader is a history store that answers catalog queries at any
// instant directly from the versions valid then, paged, filtered and faceted
// like the catalog read model, without building one first.
type CatalogReader interface {
	// CatalogAt returns the catalog as it was at the instant: every query
	// answers exactly as a catalog read model holding Current's versions,
	// folded in key order, would (the creation order is the key order), with no
	// locations and no processing errors. It returns ErrNoCatalogRows when it
	// cannot.
	CatalogAt(ctx context.Context, at Instant) (catalogstore.Reader, error)
}

// CatalogBody turns a version's body, as its event carried it, into the
// body the catalog read model stores for it (catalogstore.StoredBody: with
// metadata.uid and metadata.etag, without relations and status), as a
// CatalogReader's answers carry it.
func CatalogBody(key, uid, hash string, raw []byte) ([]byte, error) {
	body, err := catalog.DecodeJSONObject(raw)
	if err != nil {
		return nil, fmt.Errorf("history: entity %s: body: %w", key, err)
	}
	ent, err := catalog.LoadEntity(body)
	if err != nil {
		return nil, fmt.Errorf("history: entity %s: %w", key, err)
	}
	out, err := catalog.EncodeJSON(catalogstore.StoredBody(ent, uid, hash))
	if err != nil {
		return nil, fmt.Errorf("history: entity %s: %w", key, err)
	}
	return out, nil
}

// EntityRowsOf computes the catalog rows of a stored version of key from its
// body, as the fold computes those of a new one.
func EntityRowsOf(key, uid, hash string, raw []byte) (catalogstore.EntityRows, error) {
	obj, err := catalog.DecodeJSONObject(raw)
	if err != nil {
		return catalogstore.EntityRows{}, fmt.Errorf("entity %s: body: %w", key, err)
	}
	ent, err := catalog.LoadEntity(obj)
	if err != nil {
		return catalogstore.EntityRows{}, fmt.Errorf("entity %s: %w", key, err)
	}
	rows, err := catalogstore.NewEntityRows(ent, uid, hash)
	if err != nil {
		return catalogstore.EntityRows{}, fmt.Errorf("entity %s: %w", key, err)
	}
	return rows, nil
}

// NoLocations is the part of a catalog at an instant that a history does not
// keep: locations, their processing errors and refresh decisions. A store's
// CatalogAt reader embeds it; Store names the store in Snapshot's error.
type NoLocations struct {
	// Store names the history store, as its errors begin.
	Store string
}

// Locations answers none: the catalog of an instant keeps no locations.
func (NoLocations) Locations(context.Context) ([]catalogstore.Location, error) {
	return []catalogstore.Location{}, nil
}

// Location answers catalogstore.ErrNotFound: the catalog of an instant keeps no locations.
func (NoLocations) Location(context.Context, string) (catalogstore.Location, error) {
	return catalogstore.Location{}, catalogstore.ErrNotFound
}

// LocationByTarget answers catalogstore.ErrNotFound: the catalog of an instant keeps no locations.
func (NoLocations) LocationByTarget(context.Context, string, string) (catalogstore.Location, error) {
	return catalogstore.Location{}, catalogstore.ErrNotFound
}

// LocationErrors answers none: the catalog of an instant keeps no processing errors.
func (NoLocations) LocationErrors(context.Context, string) ([]event.ProcessingError, error) {
	return nil, nil
}

// Snapshot is not kept for an instant: refresh decisions read the live catalog.
func (n NoLocations) Snapshot(context.Context, string) (refresh.State, error) {
	return nil, errors.New(n.Store + ": the catalog of an instant makes no refresh decisions")
}
