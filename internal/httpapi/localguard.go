package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"backlot.dev/backlot/internal/auth"
)

// LocalGuard is how a server meant for one developer's machine (backlot dev
// on a loopback address) refuses requests a web page could make through the
// developer's browser: DNS rebinding (a name the attacker controls resolving
// to 127.0.0.1, so the request's Host is that name) and cross-site writes
// (a form or fetch from another origin, which carries an Origin header).
type LocalGuard struct {
	// Hosts are the names the server answers to besides localhost, 127.0.0.1
	// and ::1 (for example a name in /etc/hosts), compared without case and
	// without a port.
	Hosts []string
}

// allows reports whether host (a Host header, with or without a port) names
// this server.
func (g *LocalGuard) allows(host string) bool {
	return auth.LocalHost(host, g.Hosts)
}

// localGuard answers 403 NotAllowedError to a request whose Host header is
// not one of the guard's names, and to a write (any method but GET, HEAD and
// OPTIONS) whose Origin header is present and is not the server's own origin
// (http or https with the host and port of the request's Host). Without
// Config.LocalGuard it passes every request on.
func (s *server) localGuard(next http.Handler) http.Handler {
	g := s.cfg.LocalGuard
	if g == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.allows(r.Host) {
			s.writeError(w, r, &apiError{status: http.StatusForbidden, name: "NotAllowedError",
				message: "the Host header " + strconv.Quote(r.Host) + " does not name this server; backlot dev answers to localhost, 127.0.0.1 and ::1 (and the names of --allowed-host)"})
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" {
			u, err := url.Parse(origin)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !strings.EqualFold(u.Host, r.Host) {
				s.writeError(w, r, &apiError{status: http.StatusForbidden, name: "NotAllowedError",
					message: "the Origin header " + strconv.Quote(origin) + " is not this server's origin; backlot dev takes writes only from its own origin or from clients that send no Origin"})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
