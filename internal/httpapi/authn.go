package httpapi

import (
	"context"
	"net/http"
	"strings"

	"backlot.dev/backlot/domain/fault"
)

// principalKey carries the authenticated principal of a request.
type principalKey struct{}

// isRead reports whether a request only reads, though it may be a POST.
func isRead(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return r.Method == http.MethodPost && (strings.HasSuffix(r.URL.Path, "/entities/by-refs") || strings.HasSuffix(r.URL.Path, "/validate-entity"))
}

// authenticate asks Config.Authenticate who makes each write, answers 401 when
// it does not know, and hands the principal on as the write's actor.
func (s *server) authenticate(next http.Handler) http.Handler {
	if s.cfg.Authenticate == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reads are open; git hosts' webhooks carry their own signature
		// (BACKLOT_WEBHOOK_SECRET) instead of a bearer token, and only wake
		// migrations to read the host.
		if isRead(r) || strings.HasPrefix(r.URL.Path, "/api/git/hooks/") {
			next.ServeHTTP(w, r)
			return
		}
		p, err := s.cfg.Authenticate(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="backlot"`)
			s.writeError(w, r, categoryError(fault.Unauthenticated, err.Error()))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}
