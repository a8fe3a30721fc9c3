package catalogsvc

import (
	"context"
	"fmt"
	"iter"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/refresh"
	"backlot.dev/backlot/internal/ingest"
	"backlot.dev/backlot/projections/catalogstore"
)

// RefreshFiles refreshes a file location after a file watcher reported
// paths changed (absolute paths in the location's folder). It re-reads only
// the changed files of the location (and the files every refresh reads
// again: those with a problem, a placeholder or a refused entity), decides
// against the entities the store holds of those files alone, and writes the
// same events a refresh of the whole location would (RefreshLocation) for
// the same change. When the change is one only a walk of the whole location
// can decide (a folder created, removed or renamed, a file added to or gone
// from a glob, changed Location targets, no walk of the location remembered
// since start, a location last refreshed by another process) it refreshes
// the whole location. A change to no file of the location, nor beside a
// repository descriptor of it, does nothing.
func (s *Service) RefreshFiles(ctx context.Context, loc catalogstore.Location, paths []string) (RefreshResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	release, err := s.lock(ctx, loc.ID, 0)
	if err != nil || release == nil {
		return RefreshResult{}, err
	}
	defer release()
	correlation := event.NewID()
	ch, ok := s.cfg.Reader.Changed(loc.Type, loc.Target, paths)
	if !ok {
		return s.refreshLocked(ctx, loc, correlation)
	}
	var beside []string
	if s.cfg.Repos != nil {
		beside = ch.Beside(func(m string) bool {
			f, ok := s.cfg.Repos.(RepoFilter)
			return !ok || f.Watches(m)
		})
	}
	if !ch.Relevant() && len(beside) == 0 {
		return RefreshResult{}, nil
	}
	res, ok, err := s.rewalkLocked(ctx, loc, ch, beside, correlation)
	if err != nil || ok {
		return res, err
	}
	return s.refreshLocked(ctx, loc, correlation)
}

// rewalkLocked is RefreshFiles's refresh of the changed files; ok is false
// when the location must be walked whole instead, nothing being written.
func (s *Service) rewalkLocked(ctx context.Context, loc catalogstore.Location, ch ingest.Change, beside []string, correlation string) (RefreshResult, bool, error) {
	if err := s.catchUp(ctx); err != nil {
		return RefreshResult{}, false, err
	}
	state, err := s.cfg.Store.Snapshot(ctx, loc.ID)
	if err != nil {
		return RefreshResult{}, false, &UnavailableError{Err: err}
	}
	entityRef := loc.EntityRef
	if r, err := catalog.ParseRef(entityRef, catalog.RefDefaults{Kind: "Location"}); err == nil {
		entityRef = r.Key()
	}
	d := refresh.NewDecider(refresh.Location{ID: loc.ID, Type: loc.Type, Target: loc.Target, EntityRef: entityRef},
		state, event.Meta{CorrelationID: correlation}, event.NewID)
	sink := &decisionSink{s: s, ctx: ctx, d: d, state: state, hold: true}
	defer sink.wait()
	rw, err := s.cfg.Reader.Rewalk(ctx, ch, sink)
	if err != nil || !rw.OK {
		return RefreshResult{}, false, err
	}
	if err := stateErr(state); err != nil {
		return RefreshResult{}, false, &UnavailableError{Err: fmt.Errorf("catalog read model: %w", err)}
	}
	sink.hold = false
	d.Scope(rw.Files, rw.Keys)
	if err := sink.finish(); err != nil {
		return RefreshResult{}, false, err
	}
	if err := stateErr(state); err != nil {
		return RefreshResult{}, false, &UnavailableError{Err: fmt.Errorf("catalog read model: %w", err)}
	}
	if err := sink.flush(); err != nil {
		return RefreshResult{}, false, err
	}
	if err := sink.wait(); err != nil {
		return RefreshResult{}, false, err
	}
	if len(beside) > 0 {
		// The repositories of the descriptors in a changed folder: the
		// others' folders did not change, and a refresh of the whole
		// location would find them as they were.
		if err := s.watchReposOf(ctx, loc, state, beside, sink); err != nil {
			return RefreshResult{}, false, err
		}
	}
	rw.Commit()
	if err := s.waitFor(ctx, sink.last); err != nil {
		return RefreshResult{}, true, err
	}
	return RefreshResult{Positions: sink.last, Problems: len(d.Errors())}, true, nil
}

// watchReposOf tells Repos of the entities of files that the refresh
// neither upserted nor removed.
func (s *Service) watchReposOf(ctx context.Context, loc catalogstore.Location, state refresh.State, files []string, sink *decisionSink) error {
	var owned iter.Seq[refresh.Known]
	if fs, ok := state.(refresh.FileState); ok {
		owned = fs.OwnedBy(loc.ID, files)
	} else {
		in := map[string]bool{}
		for _, f := range files {
			in[f] = true
		}
		owned = func(yield func(refresh.Known) bool) {
			for k := range state.Owned(loc.ID, nil) {
				if in[k.ManagedBy] && !yield(k) {
					return
				}
			}
		}
	}
	return s.tellReposOf(ctx, loc, state, owned, sink)
}
