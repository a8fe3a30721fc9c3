package httpapi

import (
	"context"
	"net/http"
	"slices"

	"backlot.dev/backlot/internal/webhooks"
	"backlot.dev/backlot/policies/permission"
)

// Webhooks manages the webhook subscriptions (package webhooks' Manager).
type Webhooks interface {
	// Create validates and stores a subscription made by actor and starts
	// delivering to it.
	Create(ctx context.Context, actor string, in webhooks.Input) (webhooks.Subscription, error)
	// Delete stops and removes a subscription.
	Delete(ctx context.Context, id string) error
	// Replay delivers a dead letter again and, once delivered, removes it.
	Replay(ctx context.Context, subID, eventID string) error
	// Store returns the subscriptions' store, for reads.
	Store() webhooks.Store
}

// webhookRoutes adds the webhook subscriptions under /api/events/subscriptions.
func (s *server) webhookRoutes(mux *http.ServeMux) {
	route := func(pattern string, a access, h handlerFunc) { s.route(mux, pattern, a, h) }
	p := "/api/events/subscriptions"
	route("POST "+p, need(permission.EventsSubscriptionCreate, nil), s.createSubscription)
	route("GET "+p, needEach(permission.EventsSubscriptionRead), s.listSubscriptions)
	route("GET "+p+"/{id}", need(permission.EventsSubscriptionRead, s.subscriptionByPath), s.getSubscription)
	route("DELETE "+p+"/{id}", need(permission.EventsSubscriptionDelete, s.subscriptionByPath), s.deleteSubscription)
	route("GET "+p+"/{id}/dead-letters", need(permission.EventsSubscriptionRead, s.subscriptionByPath), s.deadLetters)
	route("POST "+p+"/{id}/dead-letters/{eventId}/replay", need(permission.EventsSubscriptionReplay, s.subscriptionByPath), s.replayDeadLetter)
}

func (s *server) hooks() (Webhooks, error) {
	if s.cfg.Webhooks == nil {
		return nil, notImplemented("this server manages no webhook subscriptions")
	}
	return s.cfg.Webhooks, nil
}

// createSubscription answers POST /api/events/subscriptions {url, filter, secret}.
func (s *server) createSubscription(w http.ResponseWriter, r *http.Request) error {
	m, err := s.hooks()
	if err != nil {
		return err
	}
	var in webhooks.Input
	if err := s.decodeBody(w, r, &in, true); err != nil {
		return err
	}
	sub, err := m.Create(r.Context(), s.actor(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, sub)
	return nil
}

func (s *server) listSubscriptions(w http.ResponseWriter, r *http.Request) error {
	m, err := s.hooks()
	if err != nil {
		return err
	}
	subs, err := m.Store().List(r.Context())
	if err != nil {
		return err
	}
	if keep := s.readable(r, permission.EventsSubscriptionRead); keep != nil {
		subs = slices.DeleteFunc(subs, func(sub webhooks.Subscription) bool {
			return !keep(permission.SubscriptionResource(sub.ID, sub.CreatedBy))
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": subs})
	return nil
}

func (s *server) getSubscription(w http.ResponseWriter, r *http.Request) error {
	m, err := s.hooks()
	if err != nil {
		return err
	}
	sub, err := m.Store().Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sub)
	return nil
}

func (s *server) deleteSubscription(w http.ResponseWriter, r *http.Request) error {
	m, err := s.hooks()
	if err != nil {
		return err
	}
	if err := m.Delete(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *server) deadLetters(w http.ResponseWriter, r *http.Request) error {
	m, err := s.hooks()
	if err != nil {
		return err
	}
	if _, err := m.Store().Get(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	ds, err := m.Store().DeadLetters(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": ds})
	return nil
}

func (s *server) replayDeadLetter(w http.ResponseWriter, r *http.Request) error {
	m, err := s.hooks()
	if err != nil {
		return err
	}
	if err := m.Replay(r.Context(), r.PathValue("id"), r.PathValue("eventId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
