package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"backlot.dev/backlot/internal/catalogsvc"
	"backlot.dev/backlot/internal/ingest"
	"backlot.dev/backlot/projections/catalogstore"
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
	// Locations lists the registered locations. With it the role watches the
	// folders of file locations and refreshes a location as soon as a file in
	// its folder changes (ingest.Watcher), besides the periodic refresh.
	Locations func(context.Context) ([]catalogstore.Location, error)
	// Writes, when set, counts a watched file's refresh as a catalog request
	// in flight while it runs (catalogFirst).
	Writes *foreground
	Logger *slog.Logger
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
	if d.Locations != nil {
		m.Runners = append(m.Runners, runnerFileWatch)
	}
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
		if r.deps.Locations != nil {
			wg.Go(func() { r.watch(ctx) })
		}
		r.deps.Service.RunRefreshLoop(ctx, r.deps.RefreshInterval)
	})
}

// watchSync is how often the watched folders follow the registered file
// locations (a location registered through the API is watched from then).
const watchSync = 2 * time.Second

// watch refreshes a file location as soon as a file in its folder changes,
// until ctx ends: only the changed files are read again
// (catalogsvc.Service.RefreshFiles), and the whole location after the
// operating system dropped changes.
func (r *ingesterRole) watch(ctx context.Context) {
	w, err := ingest.NewWatcher(0)
	if err != nil {
		r.deps.Logger.Warn("file locations are not watched; edits are read at the periodic refresh", "err", err)
		return
	}
	defer w.Close()
	var mu sync.Mutex
	var files []catalogstore.Location
	follow := func() {
		locs, err := r.deps.Locations(ctx)
		if err != nil {
			return
		}
		var dirs []string
		var fl []catalogstore.Location
		for _, l := range locs {
			if l.Type == ingest.TypeFile {
				fl = append(fl, l)
				dirs = append(dirs, ingest.WatchDir(l.Target))
			}
		}
		_ = w.Watch(dirs) // a folder that does not exist yet is tried again at the next sync
		mu.Lock()
		files = fl
		mu.Unlock()
	}
	follow()
	go func() {
		t := time.NewTicker(watchSync)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				follow()
			}
		}
	}()
	w.Run(ctx, func(rep ingest.Report) {
		// The stores' own files, when the data folder is a location's folder,
		// are no descriptors: their writes must not make refreshes that write.
		paths := slices.DeleteFunc(rep.Paths, func(p string) bool {
			return strings.HasSuffix(p, ".db") || strings.HasSuffix(p, "-wal") || strings.HasSuffix(p, "-shm") || strings.HasSuffix(p, "-journal")
		})
		if len(paths) == 0 && !rep.Overflow {
			return
		}
		defer r.deps.Writes.begin()()
		mu.Lock()
		locs := files
		mu.Unlock()
		for _, l := range locs {
			dir := ingest.WatchDir(l.Target)
			var in []string
			for _, p := range paths {
				if filepath.Dir(p) == dir {
					in = append(in, p)
				}
			}
			if len(in) == 0 && !rep.Overflow {
				continue
			}
			start := time.Now()
			var (
				res catalogsvc.RefreshResult
				err error
			)
			if rep.Overflow {
				// Changes were dropped: read the whole location.
				res, err = r.deps.Service.RefreshLocation(ctx, l)
			} else {
				// Only the changed files are read again, unless the change
				// needs the whole location read (catalogsvc.RefreshFiles).
				res, err = r.deps.Service.RefreshFiles(ctx, l, in)
			}
			if err != nil {
				r.deps.Logger.Warn("refresh after a file change failed", "location", l.Type+":"+l.Target, "err", err)
				continue
			}
			if len(res.Positions) == 0 {
				continue // nothing changed: nothing to tell
			}
			// Where an edit's time went, from its first notification to
			// the read model's fold of its events.
			attrs := append([]any{"location", l.Type + ":" + l.Target, "files", len(in),
				"tookMs", float64(time.Since(rep.First).Microseconds()) / 1e3,
				"noticeMs", float64(start.Sub(rep.First).Microseconds()) / 1e3}, res.Stages.LogAttrs()...)
			r.deps.Logger.Info("file changed: location refreshed", attrs...)
		}
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
