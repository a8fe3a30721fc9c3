package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"backlot.dev/backlot/internal/catalogsvc"
	"backlot.dev/backlot/internal/ingest"
)

// ingesterDeps are what the ingester role registers and refreshes with.
type ingesterDeps struct {
	// Service registers and refreshes locations.
	Service *catalogsvc.Service
	// Catalogs are the locations registered (or refreshed) at start: a file
	// path, or a URL (anything with "://").
	Catalogs []string
	// Actor is the actor of those registrations.
	Actor string
	// RefreshInterval is how often every location is re-read.
	RefreshInterval time.Duration
	Logger          *slog.Logger
}

// ingesterRole is a built ingester role: it loads the configured catalogs,
// then refreshes every location each RefreshInterval.
type ingesterRole struct {
	deps    ingesterDeps
	loaded  chan struct{}
	loadErr error
}

// newIngesterRole builds the ingester role over d and records it in m.
func newIngesterRole(d ingesterDeps, m *Manifest) *ingesterRole {
	m.Roles = append(m.Roles, RoleIngester)
	m.Runners = append(m.Runners, runnerCatalogLoad, runnerRefreshLoop)
	return &ingesterRole{deps: d, loaded: make(chan struct{})}
}

// locationType is the type of location a configured catalog names: a URL is
// read through git, anything else is a file.
func locationType(catalog string) string {
	if strings.Contains(catalog, "://") {
		return ingest.TypeURL
	}
	return ingest.TypeFile
}

// start loads the catalogs, then runs the refresh loop until ctx ends.
func (r *ingesterRole) start(ctx context.Context, wg *sync.WaitGroup) {
	wg.Go(func() {
		r.load(ctx)
		r.deps.Service.RunRefreshLoop(ctx, r.deps.RefreshInterval)
	})
}

// load registers (or refreshes) every configured catalog and closes loaded.
func (r *ingesterRole) load(ctx context.Context) {
	defer close(r.loaded)
	var errs []error
	for _, c := range r.deps.Catalogs {
		start := time.Now()
		loc, err := r.deps.Service.EnsureLocation(ctx, r.deps.Actor, locationType(c), c)
		if err != nil {
			r.deps.Logger.Error("catalog not loaded", "catalog", c, "err", err)
			errs = append(errs, fmt.Errorf("%s: %w", c, err))
			continue
		}
		r.deps.Logger.Info("catalog loaded", "catalog", c, "location", loc.ID, "took", time.Since(start).Round(time.Millisecond))
	}
	r.loadErr = errors.Join(errs...)
}

// closedChan is a channel closed from the start: the Loaded of a process
// without the ingester role.
func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}
