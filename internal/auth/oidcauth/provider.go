package oidcauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/internal/auth"
)

// CallbackPath is where the issuer sends the browser back.
const CallbackPath = "/auth/callback"

// sessionClaims are the claims a session keeps of the ID token (the cookie
// stays small): what /api/auth/me shows and permission rules may read.
var sessionClaims = []string{"iss", "sub", "email", "email_verified", "name", "preferred_username"}

// Provider signs people in at one OIDC issuer and verifies its JWTs. It is
// safe for concurrent use.
type Provider struct {
	cfg      Config
	resolver auth.Resolver
	oidc     *oidc.Provider
	verifier *oidc.IDTokenVerifier
	oauth    oauth2.Config
	seal     *sealer
	secure   bool
	device   string
	session  string
	login    string
}

// New discovers the issuer (its /.well-known/openid-configuration, fetched
// with cfg.HTTPClient within ctx) and returns its Provider. It fails when a
// setting is missing, the session key is short or the issuer cannot be
// reached; the error names the issuer, never a secret.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	if err := cfg.Settings.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Enabled() {
		return nil, errors.New("oidc: no issuer")
	}
	if cfg.Directory == nil {
		return nil, errors.New("oidc: Config.Directory is required")
	}
	cfg.setDefaults()
	resolver, _ := auth.ParseResolver(cfg.Resolver)
	seal, err := newSealer(cfg.SessionKey)
	if err != nil {
		return nil, err
	}
	op, err := oidc.NewProvider(oidc.ClientContext(ctx, cfg.HTTPClient), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc issuer %s: discovery: %w (an issuer on a loopback or private address must be allowed with --allow-network)", cfg.Issuer, err)
	}
	var extra struct {
		Device string `json:"device_authorization_endpoint"`
	}
	_ = op.Claims(&extra)
	p := &Provider{
		cfg:      cfg,
		resolver: resolver,
		oidc:     op,
		seal:     seal,
		device:   extra.Device,
		verifier: op.Verifier(&oidc.Config{SkipClientIDCheck: true, Now: cfg.Now}),
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint:     op.Endpoint(),
			RedirectURL:  cfg.PublicURL + CallbackPath,
			Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
		},
		secure:  strings.HasPrefix(cfg.PublicURL, "https://"),
		session: "backlot_session",
		login:   "backlot_login",
	}
	if p.secure {
		// __Host- cookies are Secure, for this host only and for every path.
		p.session, p.login = "__Host-"+p.session, "__Host-"+p.login
	}
	return p, nil
}

// Issuer is the issuer's URL.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

func (p *Provider) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(context.WithValue(ctx, oauth2.HTTPClient, p.cfg.HTTPClient), p.cfg.HTTPClient)
}

func unauthenticated(format string, args ...any) error {
	return fault.Wrap(fault.Unauthenticated, "", fmt.Errorf("%w: "+format, append([]any{auth.ErrUnauthenticated}, args...)...))
}

// VerifyJWT returns the principal of a bearer JWT: its signature checked
// against the issuer's keys, its issuer, expiry and audience (one of
// Settings.Audiences), and the person resolved to a User entity. Every
// refusal wraps auth.ErrUnauthenticated and says why.
func (p *Provider) VerifyJWT(ctx context.Context, raw string) (auth.Principal, error) {
	tok, err := p.verifier.Verify(p.ctx(ctx), raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return auth.Principal{}, unauthenticated("the bearer JWT expired at %s", expired.Expiry.UTC().Format(time.RFC3339))
		}
		return auth.Principal{}, unauthenticated("the bearer JWT was refused: %v", err)
	}
	if !slices.ContainsFunc(tok.Audience, func(a string) bool { return slices.Contains(p.cfg.Audiences, a) }) {
		return auth.Principal{}, unauthenticated("the bearer JWT's audience %q is none of %q (--oidc-audience)", tok.Audience, p.cfg.Audiences)
	}
	claims := map[string]any{}
	if err := tok.Claims(&claims); err != nil {
		return auth.Principal{}, unauthenticated("the bearer JWT's claims: %v", err)
	}
	ref, err := p.resolve(ctx, claims)
	if err != nil {
		return auth.Principal{}, err
	}
	return auth.Principal{Ref: ref, Claims: claims, Method: auth.MethodJWT}, nil
}

func (p *Provider) resolve(ctx context.Context, claims map[string]any) (string, error) {
	ref, err := p.resolver.Resolve(ctx, p.cfg.Directory, claims)
	switch {
	case err == nil:
		return ref, nil
	case errors.Is(err, auth.ErrNoUser):
		return "", fault.Wrap(fault.Forbidden, "", err)
	case errors.Is(err, auth.ErrUnauthenticated):
		return "", fault.Wrap(fault.Unauthenticated, "", err)
	}
	return "", fault.Wrap(fault.Unavailable, "", err)
}

// loginState is what the login cookie carries between /auth/login and
// /auth/callback.
type loginState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Redirect string `json:"r"`
	Expires  int64  `json:"e"`
}

// sessionState is what the session cookie carries.
type sessionState struct {
	Ref     string         `json:"r"`
	Claims  map[string]any `json:"c"`
	CSRF    string         `json:"x"`
	Expires int64          `json:"e"`
}

// SafeRedirect returns redirect when it is a path of this site ("/..."),
// and "/" when it is empty; anything else (another site, a scheme, "//host",
// a backslash) is an error.
func SafeRedirect(redirect string) (string, error) {
	if redirect == "" {
		return "/", nil
	}
	u, err := url.Parse(redirect)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(redirect, "/") ||
		strings.HasPrefix(redirect, "//") || strings.ContainsAny(redirect, "\\\r\n\t") {
		return "", fault.New(fault.Invalid, "redirect", "redirect %q: want a path of this site, such as /catalog", redirect)
	}
	return redirect, nil
}

// Begin starts a browser sign-in that returns to redirect (a path of this
// site): the issuer's authorization URL to send the browser to, with PKCE
// (S256), state and nonce, and the login cookie that keeps them.
func (p *Provider) Begin(redirect string) (string, *http.Cookie, error) {
	redirect, err := SafeRedirect(redirect)
	if err != nil {
		return "", nil, err
	}
	st := loginState{State: randomString(24), Nonce: randomString(24), Verifier: oauth2.GenerateVerifier(),
		Redirect: redirect, Expires: p.cfg.Now().Add(loginTTL).Unix()}
	value, err := p.seal.seal(p.login, st)
	if err != nil {
		return "", nil, err
	}
	authURL := p.oauth.AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier))
	return authURL, p.cookie(p.login, value, loginTTL), nil
}

func (p *Provider) cookie(name, value string, ttl time.Duration) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode}
	if ttl > 0 {
		c.MaxAge = int(ttl / time.Second)
		c.Expires = p.cfg.Now().Add(ttl)
	} else {
		c.MaxAge = -1
		c.Expires = time.Unix(1, 0)
	}
	return c
}

// Finish completes a browser sign-in at the callback: it checks the state
// against the login cookie, exchanges the code (with the PKCE verifier),
// verifies the ID token (signature, issuer, audience, expiry, nonce),
// resolves the person to a User entity, and returns where to send the
// browser and the cookies to set (the session; the login cookie cleared).
// A person with no User entity is a fault.Forbidden error saying so.
func (p *Provider) Finish(ctx context.Context, r *http.Request) (string, []*http.Cookie, error) {
	drop := p.cookie(p.login, "", 0)
	c, err := r.Cookie(p.login)
	var st loginState
	if err == nil {
		err = p.seal.open(p.login, c.Value, &st)
	}
	if err != nil || p.cfg.Now().Unix() > st.Expires {
		return "", []*http.Cookie{drop}, unauthenticated("this sign-in has expired or was started in another browser; start again at /auth/login")
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return "", []*http.Cookie{drop}, unauthenticated("the issuer refused the sign-in: %s %s", e, q.Get("error_description"))
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(st.State)) != 1 {
		return "", []*http.Cookie{drop}, unauthenticated("the sign-in's state does not match; start again at /auth/login")
	}
	tok, err := p.oauth.Exchange(p.ctx(ctx), q.Get("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return "", []*http.Cookie{drop}, unauthenticated("the issuer did not exchange the code: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return "", []*http.Cookie{drop}, unauthenticated("the issuer answered no ID token")
	}
	id, err := p.oidc.Verifier(&oidc.Config{ClientID: p.cfg.ClientID, Now: p.cfg.Now}).Verify(p.ctx(ctx), rawID)
	if err != nil {
		return "", []*http.Cookie{drop}, unauthenticated("the ID token was refused: %v", err)
	}
	if subtle.ConstantTimeCompare([]byte(id.Nonce), []byte(st.Nonce)) != 1 {
		return "", []*http.Cookie{drop}, unauthenticated("the ID token's nonce does not match the sign-in's")
	}
	all := map[string]any{}
	if err := id.Claims(&all); err != nil {
		return "", []*http.Cookie{drop}, unauthenticated("the ID token's claims: %v", err)
	}
	ref, err := p.resolve(ctx, all)
	if err != nil {
		p.cfg.Logger.Info("sign-in refused", "issuer", p.cfg.Issuer, "subject", id.Subject, "reason", err.Error())
		return "", []*http.Cookie{drop}, err
	}
	claims := map[string]any{}
	for _, k := range sessionClaims {
		if v, ok := all[k]; ok {
			claims[k] = v
		}
	}
	s := sessionState{Ref: ref, Claims: claims, CSRF: randomString(24), Expires: p.cfg.Now().Add(p.cfg.SessionTTL).Unix()}
	value, err := p.seal.seal(p.session, s)
	if err != nil {
		return "", []*http.Cookie{drop}, err
	}
	p.cfg.Logger.Info("signed in", "principal", ref, "issuer", p.cfg.Issuer, "subject", id.Subject)
	return st.Redirect, []*http.Cookie{drop, p.cookie(p.session, value, p.cfg.SessionTTL)}, nil
}

// Logout returns the cookie that ends the browser session.
func (p *Provider) Logout() *http.Cookie { return p.cookie(p.session, "", 0) }

// state opens the request's session cookie; ok is false without one.
func (p *Provider) state(r *http.Request) (sessionState, bool, error) {
	c, err := r.Cookie(p.session)
	if err != nil || c.Value == "" {
		return sessionState{}, false, nil
	}
	var s sessionState
	if err := p.seal.open(p.session, c.Value, &s); err != nil {
		return s, true, unauthenticated("the session cookie: %v; sign in again at /auth/login", err)
	}
	if p.cfg.Now().Unix() > s.Expires {
		return s, true, unauthenticated("the session expired at %s; sign in again at /auth/login", time.Unix(s.Expires, 0).UTC().Format(time.RFC3339))
	}
	return s, true, nil
}

// Session returns the principal of the request's session cookie (ok false
// without one). A write (any method but GET, HEAD and OPTIONS) must carry
// the session's CSRF token in the auth.CSRFHeader header: without it the
// error wraps auth.ErrCSRF and is fault.Forbidden.
func (p *Provider) Session(r *http.Request) (auth.Principal, bool, error) {
	s, ok, err := p.state(r)
	if !ok || err != nil {
		return auth.Principal{}, ok, err
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		got := r.Header.Get(auth.CSRFHeader)
		if got == "" {
			return auth.Principal{}, true, fault.Wrap(fault.Forbidden, "", fmt.Errorf("%w: a write made with the session cookie needs the %s header (the csrfToken of GET /api/auth/me)", auth.ErrCSRF, auth.CSRFHeader))
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) != 1 {
			return auth.Principal{}, true, fault.Wrap(fault.Forbidden, "", fmt.Errorf("%w: the %s header does not match the session's token", auth.ErrCSRF, auth.CSRFHeader))
		}
	}
	return auth.Principal{Ref: s.Ref, Claims: s.Claims, Method: auth.MethodSession}, true, nil
}

// CSRFToken returns the CSRF token of the request's session, "" without a
// valid session.
func (p *Provider) CSRFToken(r *http.Request) string {
	s, ok, err := p.state(r)
	if !ok || err != nil {
		return ""
	}
	return s.CSRF
}

// ClientConfig is what GET /auth/config tells `backlot login`: where to sign
// in and as which client.
type ClientConfig struct {
	// Issuer is the issuer's URL.
	Issuer string `json:"issuer"`
	// ClientID is the public client the CLI signs in as.
	ClientID string `json:"clientId"`
	// Scopes are the scopes to ask for.
	Scopes []string `json:"scopes"`
	// DeviceAuthorization reports whether the issuer offers the device flow.
	DeviceAuthorization bool `json:"deviceAuthorization"`
}

// ClientConfig returns the CLI's sign-in settings.
func (p *Provider) ClientConfig() ClientConfig {
	return ClientConfig{Issuer: p.cfg.Issuer, ClientID: p.cfg.CLIClientID,
		Scopes: []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess}, DeviceAuthorization: p.device != ""}
}
