package catalogstore

import (
	"context"
	"sync"
	"time"
)

// LagNote records, for one request, whether a count or facet answer it was
// given lagged behind the read model's last write (LagCache), and the age of
// the oldest such answer. A caller that wants to tell its client so puts one
// in the request's context with WithLagNote; the stores' Page and Facets
// answers stay as they are. A LagNote is safe for concurrent use.
type LagNote struct {
	mu      sync.Mutex
	lagging bool
	age     time.Duration
}

type lagNoteKey struct{}

// WithLagNote returns ctx carrying a new, empty LagNote, and the note.
func WithLagNote(ctx context.Context) (context.Context, *LagNote) {
	n := &LagNote{}
	return context.WithValue(ctx, lagNoteKey{}, n), n
}

// Lagging reports whether an answer lagged, and the age of the oldest one:
// how long before it was read its computation started.
func (n *LagNote) Lagging() (bool, time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.lagging, n.age
}

// noteLag records a lagging answer of age on ctx's LagNote, if it has one.
func noteLag(ctx context.Context, age time.Duration) {
	n, _ := ctx.Value(lagNoteKey{}).(*LagNote)
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.lagging = true
	n.age = max(n.age, age)
}
