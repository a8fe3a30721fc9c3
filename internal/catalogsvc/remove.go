package catalogsvc

import (
	"context"
	"fmt"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
)

// RemoveLocation removes a location and every entity it owns. The removals
// are appended in order, in batches of at most BatchSize events, each
// written before the next is made, then the location's removal: a location
// of a million entities is removed in bounded memory. A failure part way
// leaves the location registered with some of its entities removed; removing
// it again removes the rest.
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
	last := event.Positions{}
	batch := make([]event.Envelope, 0, s.cfg.BatchSize)
	write := func() error {
		// What was read so far was read right: a read that failed stops
		// the removal before it writes what follows.
		if err := stateErr(state); err != nil {
			return &UnavailableError{Err: fmt.Errorf("catalog read model: %w", err)}
		}
		pos, err := s.append(ctx, batch)
		if err != nil {
			return err
		}
		last.Merge(pos)
		batch = batch[:0]
		return nil
	}
	for k := range state.Owned(id, nil) {
		ev, err := event.New(event.TypeEntityRemoved, k.Key, event.EntityRemoved{Ref: k.Key, UID: k.UID, LocationID: id, Reason: "location removed"}, meta)
		if err != nil {
			return err
		}
		batch = append(batch, ev)
		if len(batch) >= s.cfg.BatchSize {
			if err := write(); err != nil {
				return err
			}
		}
	}
	subject := loc.EntityRef
	if r, err := catalog.ParseRef(subject, catalog.RefDefaults{Kind: "Location"}); err == nil {
		subject = r.Key()
	}
	ev, err := event.New(event.TypeLocationRemoved, subject, event.LocationRemoved{ID: id, Type: loc.Type, Target: loc.Target}, meta)
	if err != nil {
		return err
	}
	batch = append(batch, ev)
	if err := write(); err != nil {
		return err
	}
	return s.waitFor(ctx, last)
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
