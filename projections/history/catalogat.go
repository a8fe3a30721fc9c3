package history

import (
	"context"
	"errors"

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
