package httpapi

import (
	"context"
	"net/http"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/internal/auth"
	"backlot.dev/backlot/internal/auth/oidcauth"
)

// SignIn is the browser sign-in at an OIDC issuer (*oidcauth.Provider),
// which the API serves under /auth.
type SignIn interface {
	// Begin returns the issuer's authorization URL for a sign-in that
	// returns to redirect, and the cookie that keeps the flow's state.
	Begin(redirect string) (string, *http.Cookie, error)
	// Finish completes the sign-in at the callback: where to go and the
	// cookies to set.
	Finish(ctx context.Context, r *http.Request) (string, []*http.Cookie, error)
	// Logout returns the cookie that ends the session.
	Logout() *http.Cookie
	// CSRFToken returns the CSRF token of the request's session, or "".
	CSRFToken(r *http.Request) string
	// ClientConfig is what `backlot login` needs to sign in.
	ClientConfig() oidcauth.ClientConfig
}

// signInRoutes serves the sign-in (with Config.SignIn) and GET
// /api/auth/me:
//
//	GET  /auth/login?redirect=/path  to the issuer, back to /path (a path of this site)
//	GET  /auth/callback              the issuer's redirect: sets the session cookie
//	POST /auth/logout                ends the session (a write: it needs the CSRF header)
//	GET  /auth/config                the issuer and client `backlot login` signs in with
//	GET  /api/auth/me                who the caller is: ref, groups, method, claims, csrfToken
func (s *server) signInRoutes(mux *http.ServeMux) {
	s.route(mux, "GET /api/auth/me", openTo("it answers who the caller is; the authenticator still names the caller"), s.me)
	noSignIn := func(w http.ResponseWriter, r *http.Request) error {
		return notFoundError("this server has no OIDC issuer (--oidc-issuer): sign in with a static token (--token or BACKLOT_TOKEN)")
	}
	si := s.cfg.SignIn
	if si == nil {
		for _, p := range []string{"GET /auth/login", "GET /auth/callback", "POST /auth/logout", "GET /auth/config"} {
			s.route(mux, p, openTo("sign-in: it answers that this server has no OIDC issuer"), noSignIn)
		}
		return
	}
	s.route(mux, "GET /auth/login", openTo("sign-in: it sends a browser to the issuer"), func(w http.ResponseWriter, r *http.Request) error {
		to, cookie, err := si.Begin(r.URL.Query().Get("redirect"))
		if err != nil {
			return err
		}
		http.SetCookie(w, cookie)
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, to, http.StatusFound)
		return nil
	})
	s.route(mux, "GET /auth/callback", openTo("sign-in: the issuer's redirect, checked by state, PKCE and nonce"), func(w http.ResponseWriter, r *http.Request) error {
		to, cookies, err := si.Finish(r.Context(), r)
		for _, c := range cookies {
			http.SetCookie(w, c)
		}
		w.Header().Set("Cache-Control", "no-store")
		if err != nil {
			return err
		}
		http.Redirect(w, r, to, http.StatusFound)
		return nil
	})
	s.route(mux, "POST /auth/logout", openTo("sign-out: it only clears the caller's own session cookie"), func(w http.ResponseWriter, r *http.Request) error {
		http.SetCookie(w, si.Logout())
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	s.route(mux, "GET /auth/config", openTo("sign-in: the issuer and public client id backlot login needs"), func(w http.ResponseWriter, r *http.Request) error {
		writeJSON(w, http.StatusOK, si.ClientConfig())
		return nil
	})
}

// meAnswer is the body of GET /api/auth/me.
type meAnswer struct {
	// Ref is the principal: user:default/ada, service:ci…
	Ref string `json:"ref"`
	// Groups are its groups, through parent groups.
	Groups []string `json:"groups"`
	// Method is how it authenticated: token, jwt, session; none when the
	// server runs without an authenticator.
	Method string `json:"method"`
	// Claims are the claims of its credential, when it has any.
	Claims map[string]any `json:"claims,omitempty"`
	// CSRFToken is the session's token, which a write made with the
	// session cookie sends in the X-Backlot-CSRF header.
	CSRFToken string `json:"csrfToken,omitempty"`
}

// me answers who the caller is.
func (s *server) me(w http.ResponseWriter, r *http.Request) error {
	p, ok := auth.FromContext(r.Context())
	if !ok {
		if s.cfg.Identify != nil {
			return categoryError(fault.Unauthenticated, auth.ErrUnauthenticated.Error())
		}
		writeJSON(w, http.StatusOK, meAnswer{Ref: s.actor(r), Groups: []string{}, Method: "none"})
		return nil
	}
	a := meAnswer{Ref: p.Ref, Groups: p.Groups, Method: p.Method, Claims: p.Claims}
	if a.Groups == nil {
		a.Groups = []string{}
	}
	if p.Method == auth.MethodSession && s.cfg.SignIn != nil {
		a.CSRFToken = s.cfg.SignIn.CSRFToken(r)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, a)
	return nil
}
