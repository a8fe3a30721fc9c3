package catalogsvc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/refresh"
	"backlot.dev/backlot/internal/ingest"
	"backlot.dev/backlot/projections/catalogstore"
)

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

	if err := s.registerLocked(ctx, actor, loc, ref); err != nil {
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

// registerLocked writes the registration of loc and reads it, under the
// service's lock. What the answer shows is read after the lock is released, so
// other writes do not wait for that read.
func (s *Service) registerLocked(ctx context.Context, actor string, loc catalogstore.Location, ref catalog.Ref) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	locType, norm := loc.Type, loc.Target
	// Another process may be registering the same target: take the target's lock,
	// then look again; and hold the new location's own lock until it is read, so
	// no ingester's round refreshes it meanwhile.
	for _, name := range []string{"target:" + locType + ":" + norm, loc.ID} {
		release, err := s.lock(ctx, name, 0)
		if err != nil {
			return err
		}
		defer release()
	}
	if err := s.catchUp(ctx); err != nil {
		return err
	}
	if _, err := s.cfg.Store.LocationByTarget(ctx, locType, norm); err == nil {
		return &ConflictError{Location: locType + ":" + norm, Msg: fmt.Sprintf("Location %s:%s already exists", locType, norm)}
	}
	correlation := correlationOf(ctx)
	ev, err := event.New(event.TypeLocationRegistered, ref.Key(), event.LocationRegistered{
		ID: loc.ID, Type: locType, Target: norm, EntityRef: ref.String(),
	}, event.Meta{Actor: actor, CorrelationID: correlation})
	if err != nil {
		return err
	}
	pos, err := s.append(ctx, []event.Envelope{ev})
	if err != nil {
		return err
	}
	if err := s.waitFor(ctx, pos); err != nil {
		return err
	}
	_, err = s.refreshLocked(ctx, loc, correlation)
	return err
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

// KeepUnread does nothing: a dry run removes nothing.
func (c *collector) KeepUnread(string) {}

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
