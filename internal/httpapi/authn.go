package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/internal/auth"
)

// principalKey carries the authenticated principal ref of a request.
type principalKey struct{}

// isOpen reports whether a request is answered without a principal even when
// authentication is on: health, readiness and metrics; the git hosts'
// webhooks, which carry their own signature (BACKLOT_WEBHOOK_SECRET); the
// badge SVGs when Config.PublicBadges is set; and the sign-in's GET routes
// (/auth/login, /auth/callback, /auth/config). POST /auth/logout is not
// open: made with a session cookie, it needs the CSRF header.
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
	case read && (p == "/auth/login" || p == "/auth/callback" || p == "/auth/config"):
		// The sign-in itself, and what `backlot login` needs to start it.
		return true
	}
	return false
}

// authenticate asks Config.Identify who makes each request, reads and writes
// alike, and hands the principal on: its ref as the write's actor, the whole
// auth.Principal (with its groups) in the request's context
// (auth.FromContext). A request it does not know is answered 401
// AuthenticationError; a write made with a session cookie but without the
// session's CSRF token (auth.ErrCSRF), and a person with no User entity, 403
// NotAllowedError naming the reason; the catalog being unreachable while
// the groups are read, 503.
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
			err = authnError(err)
			if fault.Of(err) == fault.Unauthenticated {
				w.Header().Set("WWW-Authenticate", `Bearer realm="backlot"`)
			}
			s.writeError(w, r, err)
			return
		}
		ctx := context.WithValue(auth.WithPrincipal(r.Context(), p), principalKey{}, p.Ref)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// authnError gives an authentication error its category: the one it
// carries (the catalog unavailable while the groups are read, a person with
// no User entity), else forbidden for a failed CSRF check and
// unauthenticated for anything else.
func authnError(err error) error {
	switch {
	case fault.Of(err) != nil:
		return err
	case errors.Is(err, auth.ErrCSRF):
		return categoryError(fault.Forbidden, err.Error())
	}
	return categoryError(fault.Unauthenticated, err.Error())
}
