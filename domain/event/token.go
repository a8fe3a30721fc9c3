package event

import (
	"context"
	"sync"
)

// TokenHeader is the HTTP header in which a write's answer carries the
// positions of its events (Positions.String), and in which a read may send
// them back: the server then answers only once its read model covers them, so
// a client reads its own writes on any replica.
const TokenHeader = "Backlot-Positions"

type tokenKey struct{}

// tokenSink collects the positions of the writes made under one context.
type tokenSink struct {
	mu  sync.Mutex
	pos Positions
}

// WithTokenSink returns a context under which RecordToken collects positions,
// and a function that returns what was collected.
func WithTokenSink(ctx context.Context) (context.Context, func() Positions) {
	s := &tokenSink{}
	return context.WithValue(ctx, tokenKey{}, s), func() Positions {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.pos.Clone()
	}
}

// RecordToken adds the positions of a write to the context's sink, if any.
func RecordToken(ctx context.Context, p Positions) {
	s, ok := ctx.Value(tokenKey{}).(*tokenSink)
	if !ok || len(p) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pos == nil {
		s.pos = Positions{}
	}
	s.pos.Merge(p)
}
