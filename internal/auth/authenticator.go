package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"backlot.dev/backlot/domain/fault"
)

// ErrCSRF refuses a write made with a session cookie but without the
// session's CSRF token in the CSRFHeader header.
var ErrCSRF = errors.New("CSRF check failed")

// CSRFHeader carries a browser session's CSRF token on writes; GET
// /api/auth/me answers the token.
const CSRFHeader = "X-Backlot-CSRF"

// Authenticator names the principal of a request from whichever credential
// it carries, in this order: a static token of the token file, a bearer JWT
// of the OIDC issuer, a browser session cookie. The principal's groups are
// then expanded through the catalog (Directory.Groups). Every field may be
// nil; an Authenticator with none of Tokens, JWT and Session is not
// Configured.
type Authenticator struct {
	// Tokens are the static tokens.
	Tokens *Tokens
	// JWT verifies a bearer token that has the shape of a JWT and returns
	// its principal (package oidcauth).
	JWT func(ctx context.Context, raw string) (Principal, error)
	// Session returns the principal of the request's session cookie; ok is
	// false when the request carries none (package oidcauth).
	Session func(r *http.Request) (p Principal, ok bool, err error)
	// Directory expands the principal's groups through parent groups; nil
	// keeps them as the credential names them.
	Directory Directory
}

// Configured reports whether a has any way to authenticate.
func (a *Authenticator) Configured() bool {
	return a != nil && (a.Tokens != nil || a.JWT != nil || a.Session != nil)
}

// Identify returns the principal of r. A credential that is presented but
// not valid is an error wrapping ErrUnauthenticated (or ErrCSRF); the
// catalog being unreachable is another error.
func (a *Authenticator) Identify(r *http.Request) (Principal, error) {
	p, err := a.identify(r)
	if err != nil {
		return Principal{}, err
	}
	if a.Directory != nil {
		groups, err := a.Directory.Groups(r.Context(), p.Ref, p.Groups)
		if err != nil {
			return Principal{}, fault.Wrap(fault.Unavailable, p.Ref, fmt.Errorf("the groups of %s: %w", p.Ref, err))
		}
		p.Groups = groups
	}
	return p, nil
}

func (a *Authenticator) identify(r *http.Request) (Principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, _ := strings.Cut(h, " ")
		token = strings.TrimSpace(token)
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			return Principal{}, fmt.Errorf("%w: the Authorization header is not Bearer TOKEN", ErrUnauthenticated)
		}
		var tokErr error = fmt.Errorf("%w: the token presented is not known", ErrUnauthenticated)
		if a.Tokens != nil {
			p, err := a.Tokens.Identify(r)
			if err == nil {
				return p, nil
			}
			tokErr = err
		}
		if a.JWT != nil && LooksLikeJWT(token) {
			return a.JWT(r.Context(), token)
		}
		return Principal{}, tokErr
	}
	if a.Session != nil {
		p, ok, err := a.Session(r)
		if ok || err != nil {
			return p, err
		}
	}
	return Principal{}, ErrUnauthenticated
}

// LooksLikeJWT reports whether token has the shape of a compact JWS: three
// non-empty base64url parts separated by dots.
func LooksLikeJWT(token string) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return false
		}
	}
	return true
}
