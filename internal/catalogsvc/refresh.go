package catalogsvc

import (
	"context"
	"fmt"
	"iter"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/refresh"
	"backlot.dev/backlot/internal/ingest"
	"backlot.dev/backlot/projections/catalogstore"
)

// decisionSink feeds a Decider and appends its events in batches.
type decisionSink struct {
	s   *Service
	ctx context.Context
	d   *refresh.Decider
	// locID is the location refreshed.
	locID   string
	pending []event.Envelope
	last    event.Positions
	// changed are the entities the refresh upserted or removed, of the files
	// the repo watcher looks at (watchRepos reads nothing else); commits the
	// git commit (the branch's tip) each entity read from git was read at.
	// A first read of 100,000 entities from files that are no repository's
	// keeps no key here.
	changed map[string]bool
	commits map[string]string
	// files are the files (type:target) the walk read or kept.
	files map[string]bool
	// state is what the Decider reads; when it can, it looks a file's
	// entities up in one query (Prefetch).
	state refresh.State
	// lastFile and lastWatched remember the last answer of watched: a
	// file's entities come one after another.
	lastFile    string
	lastWatched bool
	// app appends full batches while the walk reads and decides the next
	// one (nil until the first flush, and after wait).
	app *batchAppender
	// hold keeps every event pending until the walk ends: a replay of a
	// few files (ingest.Reader.Rewalk) may find that the whole location
	// must be walked instead, and then nothing it decided is written.
	hold bool
}

// batchAppender appends batches in order on a goroutine of its own, so the
// walk parses and decides the next batch while one is written: on two
// cores, the log's inserts and hash chain overlap the YAML parsing.
type batchAppender struct {
	batches chan []event.Envelope
	done    chan struct{}
	// err and last are written by the goroutine and read after done closes.
	err  error
	last event.Positions
}

func (s *Service) startAppender(ctx context.Context) *batchAppender {
	a := &batchAppender{batches: make(chan []event.Envelope, 1), done: make(chan struct{}), last: event.Positions{}}
	go func() {
		defer close(a.done)
		for b := range a.batches {
			if a.err != nil {
				continue // drain: nothing after a failed batch is written
			}
			pos, err := s.append(ctx, b)
			if err != nil {
				a.err = err
				continue
			}
			a.last.Merge(pos)
		}
	}()
	return a
}

// watched reports whether watchRepos may list entities of the file
// managedBy (type:target): there is a repo watcher, and it looks at that
// file (RepoFilter) or does not say.
func (ds *decisionSink) watched(managedBy string) bool {
	if ds.s.cfg.Repos == nil {
		return false
	}
	if managedBy == ds.lastFile && ds.lastFile != "" {
		return ds.lastWatched
	}
	w := true
	if f, ok := ds.s.cfg.Repos.(RepoFilter); ok {
		w = f.Watches(managedBy)
	}
	ds.lastFile, ds.lastWatched = managedBy, w
	return w
}

// prefetcher is a refresh.State that looks entities up in bulk.
type prefetcher interface {
	Prefetch(keys []string)
}

// Prefetch has the state look keys up in one query, when it can.
func (ds *decisionSink) Prefetch(keys []string) {
	if p, ok := ds.state.(prefetcher); ok {
		p.Prefetch(keys)
	}
}

// Held lists the entities the read model holds from the file managedBy for
// the location, when the state lists them by file (none otherwise: each
// document is then parsed). A read that fails lists fewer, and the state
// reports it (stateErr), failing the refresh.
func (ds *decisionSink) Held(managedBy string) []refresh.Known {
	if h, ok := ds.state.(*heldState); ok {
		return h.held(ds.locID, managedBy)
	}
	fs, ok := ds.state.(refresh.FileState)
	if !ok {
		return nil
	}
	var out []refresh.Known
	for k := range fs.OwnedBy(ds.locID, []string{managedBy}) {
		out = append(out, k)
	}
	return out
}

// Unchanged decides about an entity of an unchanged document of the file
// managedBy as the read model holds it (refresh.Decider.ObserveUnchanged).
func (ds *decisionSink) Unchanged(managedBy string, k refresh.Known) bool {
	if !ds.d.ObserveUnchanged(k, managedBy) {
		return false
	}
	ds.saw(managedBy)
	return true
}

// saw records a file the walk read or kept.
func (ds *decisionSink) saw(managedBy string) {
	if ds.files == nil {
		ds.files = map[string]bool{}
	}
	ds.files[managedBy] = true
}

// note records the entities evs change.
func (ds *decisionSink) note(evs []event.Envelope) {
	if ds.changed == nil {
		ds.changed = map[string]bool{}
	}
	for i := range evs {
		switch event.Type(evs[i].Type).Latest() {
		case event.TypeEntityUpserted, event.TypeEntityRemoved:
			ds.changed[evs[i].Subject] = true
		}
	}
}

// Entity decides about the entity and appends a batch when one is full.
func (ds *decisionSink) Entity(o refresh.Observed) error {
	evs, err := ds.d.Observe(o)
	if err != nil {
		return err
	}
	ds.saw(o.ManagedBy)
	if ds.watched(o.ManagedBy) {
		if o.Head != "" {
			if ds.commits == nil {
				ds.commits = map[string]string{}
			}
			ds.commits[o.Entity.Ref().Key()] = o.Head
		}
		ds.note(evs)
	}
	ds.pending = append(ds.pending, evs...)
	if len(ds.pending) >= ds.s.cfg.BatchSize && !ds.hold {
		return ds.flush()
	}
	return nil
}

// finish appends the decision's last events (removals, errors) in batches
// of at most BatchSize, each flushed as it is full: the removals of a
// location whose files all disappeared are never held whole.
func (ds *decisionSink) finish() error {
	return ds.d.FinishEach(ds.s.cfg.BatchSize, func(evs []event.Envelope) error {
		// A read that failed wrote nothing after it: each removal before
		// it was decided on what the store yielded, and is right alone.
		if err := stateErr(ds.state); err != nil {
			return &UnavailableError{Err: fmt.Errorf("catalog read model: %w", err)}
		}
		ds.note(evs)
		for _, ev := range evs {
			ds.pending = append(ds.pending, ev)
			if len(ds.pending) >= ds.s.cfg.BatchSize {
				if err := ds.flush(); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Problem records the problem with the decision.
func (ds *decisionSink) Problem(pe event.ProcessingError) { ds.d.Fail(pe) }

// KeepFile keeps what the file yielded before.
func (ds *decisionSink) KeepFile(m string) {
	ds.saw(m)
	ds.d.KeepFile(m)
}

// Refused reports whether an entity of the file was refused as a conflict.
func (ds *decisionSink) Refused(m string) bool { return ds.d.Refused(m) }

// ClaimedElsewhere reports whether another location owns the entity.
func (ds *decisionSink) ClaimedElsewhere(key string) (string, bool) {
	return ds.d.ClaimedElsewhere(key)
}

// KeepUnread keeps every entity of the location the walk does not see.
func (ds *decisionSink) KeepUnread(string) { ds.d.KeepAll() }

// KeepEntity keeps the entity's last good version.
func (ds *decisionSink) KeepEntity(k string) { ds.d.KeepEntity(k) }

// flush hands the pending events to the appender, which writes them while
// the walk goes on; it returns the error of an earlier batch that failed.
// Call wait before relying on what was flushed.
func (ds *decisionSink) flush() error {
	if len(ds.pending) == 0 {
		return nil
	}
	if ds.app == nil {
		ds.app = ds.s.startAppender(ds.ctx)
	}
	select {
	case ds.app.batches <- ds.pending:
	case <-ds.app.done:
		return ds.wait()
	}
	ds.pending = make([]event.Envelope, 0, ds.s.cfg.BatchSize)
	return nil
}

// wait lets the appender write every flushed batch and stop, and returns
// the first append that failed. Calling it again does nothing.
func (ds *decisionSink) wait() error {
	a := ds.app
	if a == nil {
		return nil
	}
	ds.app = nil
	close(a.batches)
	<-a.done
	if len(a.last) > 0 {
		if ds.last == nil {
			ds.last = event.Positions{}
		}
		ds.last.Merge(a.last)
	}
	return a.err
}

// releaseLater releases a location's lease (lock's release) on a goroutine
// of its own: a file watcher's refresh answers once its events are folded,
// and the watcher reads the next edit while the lease's release (a
// statement, tens of milliseconds under load) is under way. The next lock of
// the location in this process waits for it (lock, which every caller calls
// with mu held, as it must call this).
func (s *Service) releaseLater(locationID string, release func()) {
	done := make(chan struct{})
	if s.releasing == nil {
		s.releasing = map[string]chan struct{}{}
	}
	s.releasing[locationID] = done
	go func() {
		release()
		close(done)
	}()
}

// RefreshResult counts what a refresh changed.
type RefreshResult struct {
	// Positions are the log positions of the refresh's last events, empty when
	// nothing changed.
	Positions event.Positions
	// Problems is how many processing errors the location has now.
	Problems int
	// Stages are how long the refresh's steps took; RefreshFiles fills them.
	Stages Stages
}

// Stages are how long the steps of a refresh after a file change took, from
// the request to the read model's fold: where an edit's time goes.
type Stages struct {
	// Lock is the wait for the location's lock (this process's refreshes,
	// then the cross-process lease).
	Lock time.Duration
	// CatchUp is the wait for the read model to apply the log's head
	// before the decision reads it (the log's heads asked, then the fold).
	CatchUp time.Duration
	// Snapshot is the read of the location's state (its recorded errors).
	Snapshot time.Duration
	// Read is the re-read of the changed files: reading and parsing them,
	// looking their entities up in the read model and deciding.
	Read time.Duration
	// Append is the decision's last events (the removals, read from the
	// read model), the append of every event to the log and the look at
	// the repositories beside the changed files.
	Append time.Duration
	// Fold is the wait for the read model to apply the appended events.
	Fold time.Duration
	// Whole says the location was walked whole instead (Read is then that
	// walk, and Append and Fold its append and fold).
	Whole bool
}

// LogAttrs are the stages as log attributes, in milliseconds.
func (st Stages) LogAttrs() []any {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }
	return []any{"lockMs", ms(st.Lock), "catchUpMs", ms(st.CatchUp), "snapshotMs", ms(st.Snapshot),
		"readMs", ms(st.Read), "appendMs", ms(st.Append), "foldMs", ms(st.Fold), "whole", st.Whole}
}

// stageClock measures consecutive stages: each lap returns the time since
// the last.
type stageClock struct{ last time.Time }

func newStageClock() stageClock { return stageClock{last: time.Now()} }

func (c *stageClock) lap() time.Duration {
	now := time.Now()
	d := now.Sub(c.last)
	c.last = now
	return d
}

// RefreshLocation re-reads a location and writes what changed.
func (s *Service) RefreshLocation(ctx context.Context, loc catalogstore.Location) (RefreshResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	release, err := s.lock(ctx, loc.ID, 0)
	if err != nil || release == nil {
		return RefreshResult{}, err
	}
	defer release()
	return s.refreshLocked(ctx, loc, event.NewID())
}

// lock takes the cross-process lock of a location when one is configured. With
// fresh > 0 it only claims a location nobody refreshed within fresh, and returns
// a nil release when it did not get it. A location last refreshed by another
// process may have changed behind this process's memo of unchanged files, so the
// memo is dropped then.
func (s *Service) lock(ctx context.Context, locationID string, fresh time.Duration) (func(), error) {
	if s.cfg.Lock == nil {
		return func() {}, nil
	}
	if done, ok := s.releasing[locationID]; ok {
		// This process's last lease of the location is being released.
		select {
		case <-done:
			delete(s.releasing, locationID)
		case <-ctx.Done():
			return nil, &UnavailableError{Err: fmt.Errorf("location lock: %w", ctx.Err())}
		}
	}
	var (
		l   Lease
		ok  = true
		err error
	)
	if fresh > 0 {
		l, ok, err = s.cfg.Lock.Claim(ctx, locationID, fresh)
	} else {
		l, err = s.cfg.Lock.Acquire(ctx, locationID)
	}
	if err != nil {
		return nil, &UnavailableError{Err: fmt.Errorf("location lock: %w", err)}
	}
	if !ok {
		return nil, nil
	}
	if !l.Continuous {
		s.cfg.Reader.Forget()
	}
	return l.Release, nil
}

func (s *Service) refreshLocked(ctx context.Context, loc catalogstore.Location, correlation string) (RefreshResult, error) {
	if err := s.catchUp(ctx); err != nil {
		return RefreshResult{}, err
	}
	state, err := s.cfg.Store.Snapshot(ctx, loc.ID)
	if err != nil {
		return RefreshResult{}, &UnavailableError{Err: err}
	}
	entityRef := loc.EntityRef
	if r, err := catalog.ParseRef(entityRef, catalog.RefDefaults{Kind: "Location"}); err == nil {
		entityRef = r.Key()
	}
	d := refresh.NewDecider(refresh.Location{ID: loc.ID, Type: loc.Type, Target: loc.Target, EntityRef: entityRef},
		state, event.Meta{CorrelationID: correlation}, event.NewID)
	sink := &decisionSink{s: s, ctx: ctx, d: d, state: state, locID: loc.ID}
	defer sink.wait()
	commit, err := s.cfg.Reader.Walk(ctx, loc.Type, loc.Target, sink, true)
	if err != nil {
		return RefreshResult{}, err
	}
	if err := sink.finish(); err != nil {
		return RefreshResult{}, err
	}
	if err := stateErr(state); err != nil {
		return RefreshResult{}, &UnavailableError{Err: fmt.Errorf("catalog read model: %w", err)}
	}
	if err := sink.flush(); err != nil {
		return RefreshResult{}, err
	}
	if err := sink.wait(); err != nil {
		return RefreshResult{}, err
	}
	if err := s.watchRepos(ctx, loc, state, sink); err != nil {
		return RefreshResult{}, err
	}
	// What the walk yielded is in the log: the reader may remember its files
	// as read, even when the read model is slow to fold it. A first load that
	// outlasts the write timeout under load would otherwise leave the next
	// refresh (an edit of one file) to parse the whole location again.
	commit()
	if err := s.waitFor(ctx, sink.last); err != nil {
		return RefreshResult{}, err
	}
	return RefreshResult{Positions: sink.last, Problems: len(d.Errors())}, nil
}

// watchRepos tells Repos of the entities the location owned before the
// refresh that the refresh neither upserted nor removed, and appends the
// events it returns. A watcher that fails is logged: the refresh itself
// succeeded.
func (s *Service) watchRepos(ctx context.Context, loc catalogstore.Location, state refresh.State, sink *decisionSink) error {
	if s.cfg.Repos == nil {
		return nil
	}
	// The files the watcher does not look at are left out of the listing: a
	// refresh of a location of many files that are no repository's lists none
	// of its entities.
	var except map[string]bool
	if f, ok := s.cfg.Repos.(RepoFilter); ok {
		except = map[string]bool{}
		for m := range sink.files {
			if !f.Watches(m) {
				except[m] = true
			}
		}
	}
	return s.tellReposOf(ctx, loc, state, state.Owned(loc.ID, except), sink)
}

// tellReposOf hands the entities of owned (read from state) that the
// refresh neither upserted nor removed to Repos (tellRepos).
func (s *Service) tellReposOf(ctx context.Context, loc catalogstore.Location, state refresh.State, owned iter.Seq[refresh.Known], sink *decisionSink) error {
	var ents []RepoEntity
	for k := range owned {
		if sink.changed[k.Key] {
			continue
		}
		ents = append(ents, RepoEntity{Key: k.Key, ManagedBy: k.ManagedBy, Commit: sink.commits[k.Key]})
	}
	if err := stateErr(state); err != nil {
		// The listing stopped part way: look at none rather than some.
		s.cfg.Logger.Warn("repositories not looked at", "location", loc.Type+":"+loc.Target, "err", err)
		return nil
	}
	return s.tellRepos(ctx, loc, ents, sink)
}

// tellRepos hands ents to Repos and appends the events it returns.
func (s *Service) tellRepos(ctx context.Context, loc catalogstore.Location, ents []RepoEntity, sink *decisionSink) error {
	if len(ents) == 0 {
		return nil
	}
	evs, done, err := s.cfg.Repos.Refreshed(ctx, ents)
	if err != nil {
		s.cfg.Logger.Warn("repositories not looked at", "location", loc.Type+":"+loc.Target, "err", err)
		return nil
	}
	sink.pending = append(sink.pending, evs...)
	if err := sink.flush(); err != nil {
		return err
	}
	if err := sink.wait(); err != nil {
		return err
	}
	done()
	return nil
}

// RefreshAll refreshes every location once, logging failures.
func (s *Service) RefreshAll(ctx context.Context) error {
	locs, err := s.cfg.Store.Locations(ctx)
	if err != nil {
		return err
	}
	for _, l := range locs {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := s.refreshRound(ctx, l); err != nil {
			s.cfg.Logger.Warn("refresh failed", "location", l.Type+":"+l.Target, "err", err)
		}
	}
	return nil
}

// refreshRound refreshes a location in the periodic round: with several
// ingesters, only the one that claims it, and only when nobody refreshed it
// within the refresh interval.
func (s *Service) refreshRound(ctx context.Context, l catalogstore.Location) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	release, err := s.lock(ctx, l.ID, s.cfg.RefreshInterval)
	if err != nil || release == nil {
		return err
	}
	defer release()
	_, err = s.refreshLocked(ctx, l, event.NewID())
	return err
}

// RunRefreshLoop refreshes every location each interval until ctx ends.
func (s *Service) RunRefreshLoop(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = s.RefreshAll(ctx)
		}
	}
}

// Refresh re-reads the location that manages the entity.
func (s *Service) Refresh(ctx context.Context, actor, entityRef string) error {
	ref, err := catalog.ParseRef(entityRef, catalog.RefDefaults{Kind: "Component"})
	if err != nil {
		return &ingest.InputError{Msg: err.Error()}
	}
	vs, err := s.cfg.Store.ByKeys(ctx, []string{ref.Key()})
	if err != nil {
		return &UnavailableError{Err: err}
	}
	if vs[0] == nil {
		return fmt.Errorf("entity %s: %w", ref, catalogstore.ErrNotFound)
	}
	locID := vs[0].LocationID
	if locID == "" {
		locID = vs[0].UID // a generated Location entity's uid is its location's id
	}
	loc, err := s.cfg.Store.Location(ctx, locID)
	if err != nil {
		return err
	}
	_, err = s.RefreshLocation(ctx, loc)
	return err
}
