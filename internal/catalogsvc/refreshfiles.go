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
	clock := newStageClock()
	s.mu.Lock()
	defer s.mu.Unlock()
	release, err := s.lock(ctx, loc.ID, 0)
	if err != nil || release == nil {
		return RefreshResult{}, err
	}
	defer s.releaseLater(loc.ID, release)
	st := Stages{Lock: clock.lap()}
	correlation := event.NewID()
	ch, ok := s.cfg.Reader.Changed(loc.Type, loc.Target, paths)
	if !ok {
		return s.refreshWhole(ctx, loc, correlation, st, &clock)
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
	res, ok, err := s.rewalkLocked(ctx, loc, ch, beside, correlation, &st, &clock)
	if err != nil || ok {
		res.Stages = st
		return res, err
	}
	return s.refreshWhole(ctx, loc, correlation, st, &clock)
}

// refreshWhole is RefreshFiles's walk of the whole location, timed as one
// Read stage after what st holds.
func (s *Service) refreshWhole(ctx context.Context, loc catalogstore.Location, correlation string, st Stages, clock *stageClock) (RefreshResult, error) {
	res, err := s.refreshLocked(ctx, loc, correlation)
	st.Read += clock.lap()
	st.Whole = true
	res.Stages = st
	return res, err
}

// rewalkLocked is RefreshFiles's refresh of the changed files; ok is false
// when the location must be walked whole instead, nothing being written.
// It adds the time of its steps to st, measured by clock.
func (s *Service) rewalkLocked(ctx context.Context, loc catalogstore.Location, ch ingest.Change, beside []string, correlation string, st *Stages, clock *stageClock) (RefreshResult, bool, error) {
	if err := s.catchUp(ctx); err != nil {
		return RefreshResult{}, false, err
	}
	st.CatchUp += clock.lap()
	state, err := s.cfg.Store.Snapshot(ctx, loc.ID)
	if err != nil {
		return RefreshResult{}, false, &UnavailableError{Err: err}
	}
	st.Snapshot += clock.lap()
	entityRef := loc.EntityRef
	if r, err := catalog.ParseRef(entityRef, catalog.RefDefaults{Kind: "Location"}); err == nil {
		entityRef = r.Key()
	}
	// The decision reads the changed files' entities once (heldState).
	var decided refresh.State = state
	if h := newHeldState(state); h != nil {
		decided = h
	}
	d := refresh.NewDecider(refresh.Location{ID: loc.ID, Type: loc.Type, Target: loc.Target, EntityRef: entityRef},
		decided, event.Meta{CorrelationID: correlation}, event.NewID)
	sink := &decisionSink{s: s, ctx: ctx, d: d, state: decided, hold: true, locID: loc.ID}
	defer sink.wait()
	rw, err := s.cfg.Reader.Rewalk(ctx, ch, sink)
	st.Read += clock.lap()
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
	st.Append += clock.lap()
	if err := s.waitFor(ctx, sink.last); err != nil {
		return RefreshResult{}, true, err
	}
	st.Fold += clock.lap()
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
