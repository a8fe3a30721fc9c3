package httpapi

import (
	"context"
	"net/http"
	"strings"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/internal/auth"
)

// principalKey carries the authenticated principal ref of a request.
type principalKey struct{}

// isOpen reports whether a request is answered without a principal even when
// authentication is on: health, readiness and metrics; the git hosts'
// webhooks, which carry their own signature (BACKLOT_WEBHOOK_SECRET); and the
// badge SVGs when Config.PublicBadges is set.
func (s *server) isOpen(r *http.Request) bool {
	p := r.URL.Path
	read := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case read && (p == "/healthz" || p == "/readyz" || p == "/metrics"):
		return true
	case strings.HasPrefix(p, "/api/git/hooks/"):
		return true
	case read && s.cfg.PublicBadges && strings.HasPrefix(p, "/api/badges/"):
		return true
	}
	return false
}

// authenticate asks Config.Identify who makes each request, reads and writes
// alike, answers 401 AuthenticationError when it does not know, and hands the
// principal on: its ref as the write's actor, the whole auth.Principal (with
// its groups) in the request's context (auth.FromContext).
func (s *server) authenticate(next http.Handler) http.Handler {
	if s.cfg.Identify == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.isOpen(r) {
			next.ServeHTTP(w, r)
			return
		}
		p, err := s.cfg.Identify(r)
		if err == nil && p.Ref == "" {
			err = auth.ErrUnauthenticated
		}
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="backlot"`)
			s.writeError(w, r, categoryError(fault.Unauthenticated, err.Error()))
			return
		}
		ctx := context.WithValue(auth.WithPrincipal(r.Context(), p), principalKey{}, p.Ref)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
