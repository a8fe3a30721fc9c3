package statefeed

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/messaging"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/projector"
)

// Topic is the state topic's name after the configured prefix.
const Topic = "catalog.entities.v1"

// Metadata keys of a state message besides messaging.MetaKey.
const (
	// MetaEventID is the id of the event that caused the message.
	MetaEventID = "backlot_event_id"
	// MetaEventType is that event's type.
	MetaEventType = "backlot_event_type"
)

// Handler publishes the state of the entity each event concerns.
type Handler struct {
	// Reader is the catalog read model.
	Reader catalogstore.Reader
	// Waiter tells when the read model has applied an event.
	Waiter projector.Waiter
	// Publisher writes to the state topic.
	Publisher message.Publisher
	// Topic is the full name of the state topic.
	Topic string
	// WaitTimeout bounds the wait for the read model; the message is retried
	// after it. Default 30s.
	WaitTimeout time.Duration
}

// concerns reports whether events of the type change an entity's state; an
// old version of a type concerns it as its newest version does.
func concerns(t string) bool {
	switch event.Type(t).Latest() {
	case event.TypeEntityUpserted, event.TypeEntityRemoved,
		event.TypeLocationRegistered, event.TypeLocationRemoved,
		event.TypeProcessingErrorRecorded, event.TypeProcessingErrorCleared:
		return true
	}
	return false
}

// Handle is the router's handler function: it publishes the subject's current
// state, or a tombstone, and returns an error (for a retry) when the read model
// is not there yet or the publish fails.
func (h *Handler) Handle(msg *message.Message) error {
	ev, err := messaging.FromMessage(msg)
	if err != nil {
		return err
	}
	if !concerns(ev.Type) {
		return nil
	}
	ctx := msg.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	timeout := h.WaitTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	if ev.Position > 0 {
		wctx, cancel := context.WithTimeout(ctx, timeout)
		err := h.Waiter.WaitFor(wctx, event.Positions{ev.Partition: ev.Position})
		cancel()
		if err != nil {
			return fmt.Errorf("state feed: event %s: %w", ev.ID, err)
		}
	}
	keys := []string{ev.Subject}
	latest := event.Type(ev.Type).Latest()
	if latest == event.TypeProcessingErrorRecorded || latest == event.TypeProcessingErrorCleared {
		// Errors show on the location's entity and on the entities they name.
		var d event.ProcessingErrorRecorded
		if err := ev.Decode(&d); err == nil {
			for _, pe := range d.Errors {
				if r, err := catalog.ParseRef(pe.Entity, catalog.RefDefaults{Kind: "Component"}); pe.Entity != "" && err == nil {
					keys = append(keys, r.Key())
				}
			}
		}
	}
	views, err := h.Reader.ByKeys(ctx, keys)
	if err != nil {
		return fmt.Errorf("state feed: read %v: %w", keys, err)
	}
	// A relation shows on both of its ends: the entities this one relates to
	// change with it, so their state is published again too.
	if v := views[0]; v != nil && (latest == event.TypeEntityUpserted || latest == event.TypeLocationRegistered) {
		seen := map[string]bool{}
		for _, k := range keys {
			seen[k] = true
		}
		var more []string
		for _, r := range v.Relations {
			if t, err := catalog.ParseRef(r.TargetRef, catalog.RefDefaults{}); err == nil && !seen[t.Key()] {
				seen[t.Key()] = true
				more = append(more, t.Key())
			}
		}
		if len(more) > 0 {
			mv, err := h.Reader.ByKeys(ctx, more)
			if err != nil {
				return fmt.Errorf("state feed: read %v: %w", more, err)
			}
			for i, m := range mv {
				if m != nil {
					keys = append(keys, more[i])
					views = append(views, m)
				}
			}
		}
	}
	out := make([]*message.Message, 0, len(keys))
	for i, key := range keys {
		m, err := stateMessage(ev, key, views[i])
		if err != nil {
			return err
		}
		if views[i] == nil && i > 0 {
			continue // an error naming an entity that does not exist: nothing to say
		}
		out = append(out, m)
	}
	if err := h.Publisher.Publish(h.Topic, out...); err != nil {
		return fmt.Errorf("state feed: publish %s: %w", ev.Subject, err)
	}
	return nil
}

// stateMessage is the state of key: its API JSON, or a tombstone when view is nil.
func stateMessage(ev event.Envelope, key string, view *catalogstore.EntityView) (*message.Message, error) {
	var payload []byte
	if view != nil {
		b, err := json.Marshal(view)
		if err != nil {
			return nil, fmt.Errorf("state feed: render %s: %w", key, err)
		}
		payload = b
		key = view.Key
	}
	m := message.NewMessage(ev.ID+"/"+key, payload)
	m.Metadata.Set(messaging.MetaKey, key)
	m.Metadata.Set(MetaEventID, ev.ID)
	m.Metadata.Set(MetaEventType, ev.Type)
	m.Metadata.Set(messaging.MetaContentType, event.ContentTypeJSON)
	if ev.CorrelationID != "" {
		m.Metadata.Set(messaging.MetaCorrelationID, ev.CorrelationID)
	}
	return m, nil
}
