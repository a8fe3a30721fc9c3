package history

import (
	"context"

	"backlot.dev/backlot/domain/event"
)

// Reader answers questions about the catalog's past.
type Reader interface {
	// Positions returns the last log position applied in each partition.
	Positions(ctx context.Context) (event.Positions, error)
	// Versions returns up to limit versions of the key with numbers greater
	// than after, in number order; limit zero or less means all.
	Versions(ctx context.Context, key string, after, limit int) ([]Version, error)
	// Version returns version n of the key, or ErrNotFound.
	Version(ctx context.Context, key string, n int) (Version, error)
	// Current returns the entities that existed at the instant, one version
	// each (never a removal), in key order: up to limit of them (all when limit
	// is zero or less) with keys greater than after.
	Current(ctx context.Context, at Instant, after string, limit int) ([]Version, error)
	// Changes returns up to limit versions made by events after the position,
	// in log order (partition, then position), for exporting and re-checking
	// the whole history; limit zero or less means all.
	Changes(ctx context.Context, after Pos, limit int) ([]Version, error)
	// Digests returns up to limit of the applied events after the position, in
	// log order, with their digests, so a verifier can compare them with the
	// log; every applied event is listed, also those that made no version.
	Digests(ctx context.Context, after Pos, limit int) ([]EventDigest, error)
}

// Store is the history read model: a Reader that applies events.
type Store interface {
	Reader
	// Apply folds the events in one transaction, together with the position of
	// the last one of each partition. Events at or below their partition's
	// recorded position are skipped, so applying a batch twice changes nothing.
	Apply(ctx context.Context, events []event.Envelope) error
	// Close releases the store.
	Close() error
}
