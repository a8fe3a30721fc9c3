package catalogsvc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/domain/refresh"
	"backlot.dev/backlot/internal/ingest"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/projector"
)

// UnavailableError is a write that could not complete because a store did not answer.
type UnavailableError struct{ Err error }

// Error says what did not answer.
func (e *UnavailableError) Error() string { return "service unavailable: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *UnavailableError) Unwrap() error { return e.Err }

// Is reports whether target is fault.Unavailable.
func (e *UnavailableError) Is(target error) bool { return target == fault.Unavailable }

// ConflictError is a write that clashes with the catalog's state: Location is
// the location (type:target) concerned.
type ConflictError struct {
	Location string
	Msg      string
}

// Error returns the message.
func (e *ConflictError) Error() string { return e.Msg }

// Is reports whether target is fault.Conflict.
func (e *ConflictError) Is(target error) bool { return target == fault.Conflict }

// LocationResult is what RegisterLocation answers: the location, the entities
// it yields as the catalog API renders entities, and, for a dry run, whether
// the location is registered already.
type LocationResult struct {
	// Location is the registered (or, for a dry run, the would-be) location.
	Location catalogstore.Location
	// Entities are the entities the location yields, each rendered as the API
	// renders entities.
	Entities []json.RawMessage
	// Exists reports, for a dry run, whether the location is registered already.
	Exists bool
}

// Config configures a Service.
type Config struct {
	// Log is the event log writes go to.
	Log event.PartitionedLog
	// Store is the catalog read model.
	Store catalogstore.Store
	// Waiter tells when Store has applied a write; writes wait for it. In one
	// process it is the Projector; elsewhere a PollWaiter over Store.
	Waiter projector.Waiter
	// Lock, when set, makes refreshes of one location exclusive across processes
	// (several ingesters on one store); within a process they are always serialised.
	Lock LocationLock
	// Reader reads locations.
	Reader *ingest.Reader
	// WriteTimeout bounds how long a write waits for the read model; default 30s.
	WriteTimeout time.Duration
	// BatchSize is how many events go into one append; default 500.
	BatchSize int
	// RefreshInterval is how often the refresh loop re-reads each location; with a
	// Lock, a location refreshed within it by any process is skipped. Default 30s.
	RefreshInterval time.Duration
	// Repos, when set, is told after each refresh of the entities whose
	// descriptor did not change, so a repository whose other files changed
	// (a push, a CODEOWNERS added beside a catalog-info.yaml) has its facts
	// collected again.
	Repos RepoWatcher
	// Logger receives refresh failures; default slog.Default().
	Logger *slog.Logger
}

// RepoWatcher watches the repositories of the entities a refresh kept as
// they were: their descriptor did not change, but the files beside it may
// have.
type RepoWatcher interface {
	// Refreshed returns the events that record what changed in the
	// repositories of ents since they were last looked at (facts.repo), none
	// when nothing did. commit is called once those events are written, so
	// a failed append is looked at again at the next refresh. A repository
	// that cannot be read is the watcher's to report; err is a store that
	// did not answer.
	Refreshed(ctx context.Context, ents []RepoEntity) (evs []event.Envelope, commit func(), err error)
}

// RepoEntity is an entity a refresh kept as it was, with where it was read.
type RepoEntity struct {
	// Key is the entity's lower-case ref.
	Key string
	// ManagedBy is type:target of the file the entity was read from.
	ManagedBy string
	// Commit is the git commit the refresh read the file at, its branch's
	// tip (not the last commit that changed the file); "" for a file on disk.
	Commit string
}

// LocationLock makes the refresh of a location exclusive across the processes
// that share a store, so two ingesters never refresh the same location at once.
type LocationLock interface {
	// Acquire blocks until this process holds the location's lock, or ctx ends.
	Acquire(ctx context.Context, locationID string) (Lease, error)
	// Claim takes the lock only when it is free and nobody refreshed the location
	// within fresh; ok is false otherwise.
	Claim(ctx context.Context, locationID string, fresh time.Duration) (l Lease, ok bool, err error)
}

// Lease is a held location lock.
type Lease struct {
	// Release gives the lock up and records the refresh as done now.
	Release func()
	// Continuous says this process also made the location's previous refresh.
	Continuous bool
}

// Service carries out catalog writes. Refreshes run one at a time.
type Service struct {
	cfg Config
	mu  sync.Mutex
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 500
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{cfg: cfg}
}

// append writes events and returns their positions; a failing log is a 503.
func (s *Service) append(ctx context.Context, evs []event.Envelope) (event.Positions, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	if _, err := s.cfg.Log.Append(ctx, evs); err != nil {
		return nil, &UnavailableError{Err: fmt.Errorf("event log: %w", err)}
	}
	pos := event.PositionsOf(evs)
	event.RecordToken(ctx, pos)
	return pos, nil
}

// waitFor blocks until the read model has applied pos, for at most WriteTimeout
// plus a millisecond for each event the read model is behind: a write of a large
// location is durable in the log at once and needs the time to be folded.
func (s *Service) waitFor(ctx context.Context, pos event.Positions) error {
	if len(pos) == 0 {
		return nil
	}
	behind := s.cfg.Waiter.Applied().Behind(pos)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout+time.Duration(behind)*time.Millisecond)
	defer cancel()
	if err := s.cfg.Waiter.WaitFor(ctx, pos); err != nil {
		return &UnavailableError{Err: err}
	}
	return nil
}

// catchUp waits until the read model has applied everything in the log.
func (s *Service) catchUp(ctx context.Context) error {
	head, err := s.cfg.Log.Heads(ctx)
	if err != nil {
		return &UnavailableError{Err: fmt.Errorf("event log: %w", err)}
	}
	return s.waitFor(ctx, head)
}

// RegisterLocation adds a location and reads it, or with dryRun only reads it.
// The result lists the entities the location yields, as Backstage's API does.
func (s *Service) RegisterLocation(ctx context.Context, actor, locType, target string, dryRun bool) (LocationResult, error) {
	return s.register(ctx, actor, locType, target, dryRun, true)
}

// register is RegisterLocation; withEntities false leaves the entities out, so a
// large catalog loaded at start is not rendered into memory for nobody.
func (s *Service) register(ctx context.Context, actor, locType, target string, dryRun, withEntities bool) (LocationResult, error) {
	norm, err := s.cfg.Reader.Normalize(ctx, locType, target)
	if err != nil {
		return LocationResult{}, err
	}
	if err := s.catchUp(ctx); err != nil {
		return LocationResult{}, err
	}
	existing, err := s.cfg.Store.LocationByTarget(ctx, locType, norm)
	switch {
	case err == nil:
		if !dryRun {
			return LocationResult{}, &ConflictError{Location: locType + ":" + norm, Msg: fmt.Sprintf("Location %s:%s already exists", locType, norm)}
		}
		ents, err := s.ownedEntities(ctx, existing.ID)
		if err != nil {
			return LocationResult{}, err
		}
		return LocationResult{Location: existing, Entities: ents, Exists: true}, nil
	case !errors.Is(err, catalogstore.ErrNotFound):
		return LocationResult{}, &UnavailableError{Err: err}
	}
	if err := s.cfg.Reader.Probe(ctx, locType, norm); err != nil {
		return LocationResult{}, err
	}
	ref := catalog.GeneratedLocationRef(locType, norm)
	loc := catalogstore.Location{ID: event.NewID(), Type: locType, Target: norm, EntityRef: ref.String()}
	if dryRun {
		ents, err := s.dryRun(ctx, loc)
		return LocationResult{Location: loc, Entities: ents}, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	// Another process may be registering the same target: take the target's lock,
	// then look again; and hold the new location's own lock until it is read, so
	// no ingester's round refreshes it meanwhile.
	for _, name := range []string{"target:" + locType + ":" + norm, loc.ID} {
		release, err := s.lock(ctx, name, 0)
		if err != nil {
			return LocationResult{}, err
		}
		defer release()
	}
	if err := s.catchUp(ctx); err != nil {
		return LocationResult{}, err
	}
	if _, err := s.cfg.Store.LocationByTarget(ctx, locType, norm); err == nil {
		return LocationResult{}, &ConflictError{Location: locType + ":" + norm, Msg: fmt.Sprintf("Location %s:%s already exists", locType, norm)}
	}
	correlation := correlationOf(ctx)
	ev, err := event.New(event.TypeLocationRegistered, ref.Key(), event.LocationRegistered{
		ID: loc.ID, Type: locType, Target: norm, EntityRef: ref.String(),
	}, event.Meta{Actor: actor, CorrelationID: correlation})
	if err != nil {
		return LocationResult{}, err
	}
	pos, err := s.append(ctx, []event.Envelope{ev})
	if err != nil {
		return LocationResult{}, err
	}
	if err := s.waitFor(ctx, pos); err != nil {
		return LocationResult{}, err
	}
	if _, err := s.refreshLocked(ctx, loc, correlation); err != nil {
		return LocationResult{}, err
	}
	if !withEntities {
		return LocationResult{Location: loc}, nil
	}
	ents, err := s.ownedEntities(ctx, loc.ID)
	if err != nil {
		return LocationResult{}, err
	}
	return LocationResult{Location: loc, Entities: ents}, nil
}

// ownedEntities renders the entities a location owns, as the API shows them.
func (s *Service) ownedEntities(ctx context.Context, locationID string) ([]json.RawMessage, error) {
	page, err := s.cfg.Store.Query(ctx, catalogstore.PageQuery{LocationID: locationID})
	if err != nil {
		return nil, &UnavailableError{Err: err}
	}
	out := []json.RawMessage{}
	for _, v := range page.Items {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// collector is a Sink that keeps entities for a dry run.
type collector struct {
	ents     []json.RawMessage
	problems []event.ProcessingError
	origin   string
}

// Entity keeps the entity as the API would show it.
func (c *collector) Entity(o refresh.Observed) error {
	e := o.Entity.WithAnnotations(map[string]string{
		catalog.AnnotationManagedByLocation:       o.ManagedBy,
		catalog.AnnotationManagedByOriginLocation: c.origin,
	})
	c.ents = append(c.ents, e.JSON())
	return nil
}

// Problem keeps the problem.
func (c *collector) Problem(pe event.ProcessingError) { c.problems = append(c.problems, pe) }

// KeepFile does nothing: a dry run removes nothing.
func (c *collector) KeepFile(string) {}

// KeepEntity does nothing: a dry run removes nothing.
func (c *collector) KeepEntity(string) {}

func (s *Service) dryRun(ctx context.Context, loc catalogstore.Location) ([]json.RawMessage, error) {
	c := &collector{origin: loc.Type + ":" + loc.Target, ents: []json.RawMessage{}}
	if _, err := s.cfg.Reader.Walk(ctx, loc.Type, loc.Target, c, false); err != nil {
		return nil, err
	}
	if len(c.problems) > 0 && len(c.ents) == 0 {
		msgs := make([]string, len(c.problems))
		for i, p := range c.problems {
			msgs[i] = describeProblem(p)
		}
		return nil, &ingest.InputError{Msg: strings.Join(msgs, "; ")}
	}
	return c.ents, nil
}

// describeProblem says where a processing error is (file, document, entity,
// field) and what it is.
func describeProblem(p event.ProcessingError) string {
	where := p.File
	if p.Document >= 0 {
		where += fmt.Sprintf(" document %d", p.Document+1)
	}
	if p.Entity != "" {
		where += " entity " + p.Entity
	}
	if p.Field != "" {
		where += " field " + p.Field
	}
	return where + ": " + p.Message
}

// decisionSink feeds a Decider and appends its events in batches.
type decisionSink struct {
	s       *Service
	ctx     context.Context
	d       *refresh.Decider
	pending []event.Envelope
	last    event.Positions
	// changed are the entities the refresh upserted or removed; commits the
	// git commit (the branch's tip) each entity read from git was read at.
	changed map[string]bool
	commits map[string]string
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
	if o.Head != "" {
		if ds.commits == nil {
			ds.commits = map[string]string{}
		}
		ds.commits[o.Entity.Ref().Key()] = o.Head
	}
	ds.note(evs)
	ds.pending = append(ds.pending, evs...)
	if len(ds.pending) >= ds.s.cfg.BatchSize {
		return ds.flush()
	}
	return nil
}

// Problem records the problem with the decision.
func (ds *decisionSink) Problem(pe event.ProcessingError) { ds.d.Fail(pe) }

// KeepFile keeps what the file yielded before.
func (ds *decisionSink) KeepFile(m string) { ds.d.KeepFile(m) }

// Refused reports whether an entity of the file was refused as a conflict.
func (ds *decisionSink) Refused(m string) bool { return ds.d.Refused(m) }

// KeepEntity keeps the entity's last good version.
func (ds *decisionSink) KeepEntity(k string) { ds.d.KeepEntity(k) }

func (ds *decisionSink) flush() error {
	if len(ds.pending) == 0 {
		return nil
	}
	pos, err := ds.s.append(ds.ctx, ds.pending)
	if err != nil {
		return err
	}
	if ds.last == nil {
		ds.last = event.Positions{}
	}
	ds.last.Merge(pos)
	ds.pending = ds.pending[:0]
	return nil
}

// RefreshResult counts what a refresh changed.
type RefreshResult struct {
	// Positions are the log positions of the refresh's last events, empty when
	// nothing changed.
	Positions event.Positions
	// Problems is how many processing errors the location has now.
	Problems int
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
	sink := &decisionSink{s: s, ctx: ctx, d: d}
	commit, err := s.cfg.Reader.Walk(ctx, loc.Type, loc.Target, sink, true)
	if err != nil {
		return RefreshResult{}, err
	}
	rest, err := d.Finish()
	if err != nil {
		return RefreshResult{}, err
	}
	if err := stateErr(state); err != nil {
		return RefreshResult{}, &UnavailableError{Err: fmt.Errorf("catalog read model: %w", err)}
	}
	sink.note(rest)
	sink.pending = append(sink.pending, rest...)
	if err := sink.flush(); err != nil {
		return RefreshResult{}, err
	}
	if err := s.watchRepos(ctx, loc, state, sink); err != nil {
		return RefreshResult{}, err
	}
	if err := s.waitFor(ctx, sink.last); err != nil {
		return RefreshResult{}, err
	}
	commit()
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
	var ents []RepoEntity
	for _, k := range state.Owned(loc.ID, nil) {
		if sink.changed[k.Key] {
			continue
		}
		ents = append(ents, RepoEntity{Key: k.Key, ManagedBy: k.ManagedBy, Commit: sink.commits[k.Key]})
	}
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

// EnsureLocation registers a location, or refreshes it when already registered.
// It is how configured catalogs are loaded at start, so a restart doubles nothing.
func (s *Service) EnsureLocation(ctx context.Context, actor, locType, target string) (catalogstore.Location, error) {
	norm, err := s.cfg.Reader.Normalize(ctx, locType, target)
	if err != nil {
		return catalogstore.Location{}, err
	}
	if err := s.catchUp(ctx); err != nil {
		return catalogstore.Location{}, err
	}
	if loc, err := s.cfg.Store.LocationByTarget(ctx, locType, norm); err == nil {
		_, err := s.RefreshLocation(ctx, loc)
		return loc, err
	}
	res, err := s.register(ctx, actor, locType, norm, false, false)
	return res.Location, err
}

// correlationKey carries a caller's correlation id (WithCorrelation).
type correlationKey struct{}

// WithCorrelation makes the events a registration writes carry id as their
// correlation id: the scaffolder passes its task's id, so the registered
// entities' history leads to the task that made them.
func WithCorrelation(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey{}, id)
}

// correlationOf returns the context's correlation id, or a new one.
func correlationOf(ctx context.Context) string {
	if id, ok := ctx.Value(correlationKey{}).(string); ok && id != "" {
		return id
	}
	return event.NewID()
}

// EnsureWithEntities is EnsureLocation that also answers the entities the
// location yields, as the API renders them, once they are readable. The
// scaffolder's catalog:register calls it, so a retried step registers once.
func (s *Service) EnsureWithEntities(ctx context.Context, actor, locType, target string) (LocationResult, error) {
	res, err := s.RegisterLocation(ctx, actor, locType, target, false)
	var conflict *ConflictError
	if !errors.As(err, &conflict) {
		return res, err
	}
	loc, err := s.EnsureLocation(ctx, actor, locType, target)
	if err != nil {
		return LocationResult{}, err
	}
	ents, err := s.ownedEntities(ctx, loc.ID)
	if err != nil {
		return LocationResult{}, err
	}
	return LocationResult{Location: loc, Entities: ents, Exists: true}, nil
}

// RemoveLocation removes a location and every entity it owns, in one append.
func (s *Service) RemoveLocation(ctx context.Context, actor, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	release, err := s.lock(ctx, id, 0)
	if err != nil {
		return err
	}
	defer release()
	if err := s.catchUp(ctx); err != nil {
		return err
	}
	loc, err := s.cfg.Store.Location(ctx, id)
	if err != nil {
		return err
	}
	state, err := s.cfg.Store.Snapshot(ctx, id)
	if err != nil {
		return &UnavailableError{Err: err}
	}
	meta := event.Meta{Actor: actor, CorrelationID: event.NewID()}
	var evs []event.Envelope
	owned := state.Owned(id, nil)
	if err := stateErr(state); err != nil {
		return &UnavailableError{Err: fmt.Errorf("catalog read model: %w", err)}
	}
	for _, k := range owned {
		ev, err := event.New(event.TypeEntityRemoved, k.Key, event.EntityRemoved{Ref: k.Key, UID: k.UID, LocationID: id, Reason: "location removed"}, meta)
		if err != nil {
			return err
		}
		evs = append(evs, ev)
	}
	subject := loc.EntityRef
	if r, err := catalog.ParseRef(subject, catalog.RefDefaults{Kind: "Location"}); err == nil {
		subject = r.Key()
	}
	ev, err := event.New(event.TypeLocationRemoved, subject, event.LocationRemoved{ID: id, Type: loc.Type, Target: loc.Target}, meta)
	if err != nil {
		return err
	}
	evs = append(evs, ev)
	pos, err := s.append(ctx, evs)
	if err != nil {
		return err
	}
	return s.waitFor(ctx, pos)
}

// DeleteEntityByUID removes one entity. Like Backstage, an entity whose location
// still yields it comes back on that location's next refresh.
func (s *Service) DeleteEntityByUID(ctx context.Context, actor, uid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.catchUp(ctx); err != nil {
		return err
	}
	v, err := s.cfg.Store.ByUID(ctx, uid)
	if err != nil {
		return err
	}
	ev, err := event.New(event.TypeEntityRemoved, v.Key, event.EntityRemoved{Ref: v.Key, UID: v.UID, LocationID: v.LocationID, Reason: "deleted through the API"},
		event.Meta{Actor: actor, CorrelationID: event.NewID()})
	if err != nil {
		return err
	}
	pos, err := s.append(ctx, []event.Envelope{ev})
	if err != nil {
		return err
	}
	// The entity's file did not change: forget the files, so the next refresh
	// reads them and brings the entity back, as Backstage does.
	s.cfg.Reader.Forget()
	return s.waitFor(ctx, pos)
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

// ValidateEntity validates a body as Backlot would when reading it.
func (s *Service) ValidateEntity(_ context.Context, _ string, entity map[string]any) error {
	_, err := catalog.NewEntity(entity)
	return err
}

// stateErr returns the first failed read of a refresh state that reports one.
func stateErr(st refresh.State) error {
	if e, ok := st.(interface{ Err() error }); ok {
		return e.Err()
	}
	return nil
}
