package oidcauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/internal/auth"
	"backlot.dev/backlot/internal/auth/oidcauth"
	"backlot.dev/backlot/internal/auth/oidctest"
)

// people is a Directory of one User, ada, found by e-mail or by name.
type people struct{}

func (people) FindUser(_ context.Context, by auth.UserLookup) (string, error) {
	if strings.EqualFold(by.Email, "ada@example.com") || by.Name == "ada" {
		return "user:default/ada", nil
	}
	return "", auth.ErrNoUser
}

func (people) Groups(_ context.Context, _ string, seeds []string) ([]string, error) {
	return seeds, nil
}

var (
	cli   = oidctest.Client{ID: "backlot-cli", RedirectURIs: []string{"http://127.0.0.1/callback"}}
	web   = oidctest.Client{ID: "backlot", Secret: "web-secret-0123456789", RedirectURIs: []string{"https://backlot.example.com/auth/callback"}}
	users = []oidctest.User{{Username: "ada", Password: "pw-ada-0123", Email: "ada@example.com"}}
)

func newProvider(t *testing.T, op *oidctest.Provider, mod func(*oidcauth.Config)) *oidcauth.Provider {
	t.Helper()
	cfg := oidcauth.Config{
		Settings:     oidcauth.Settings{Issuer: op.Issuer, ClientID: "backlot", CLIClientID: cli.ID, PublicURL: "https://backlot.example.com"},
		SessionKey:   []byte("0123456789abcdef0123456789abcdef"),
		ClientSecret: web.Secret,
		Directory:    people{},
	}
	if mod != nil {
		mod(&cfg)
	}
	p, err := oidcauth.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBearerJWT(t *testing.T) {
	op := oidctest.Start(t, "", users, []oidctest.Client{cli})
	id, _ := op.Tokens(t, cli, "ada").Extra("id_token").(string)
	later := func() time.Time { return time.Now().Add(2 * time.Hour) }
	for _, c := range []struct {
		name string
		mod  func(*oidcauth.Config)
		want string // "" accepts
	}{
		{"accepted", nil, ""},
		{"audience listed", func(c *oidcauth.Config) { c.Audiences = []string{"other", cli.ID} }, ""},
		{"wrong audience", func(c *oidcauth.Config) { c.Audiences = []string{"backlot-api"} }, `audience ["backlot-cli"] is none of ["backlot-api"]`},
		{"expired", func(c *oidcauth.Config) { c.Now = later }, "the bearer JWT expired at"},
		{"username resolver", func(c *oidcauth.Config) { c.Resolver = string(auth.ResolverUsername) }, ""},
		{"local part resolver", func(c *oidcauth.Config) { c.Resolver = string(auth.ResolverEmailLocalPart) }, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newProvider(t, op, c.mod)
			got, err := p.VerifyJWT(t.Context(), id)
			if c.want == "" {
				if err != nil || got.Ref != "user:default/ada" || got.Method != auth.MethodJWT || got.Claims["email"] != "ada@example.com" {
					t.Fatalf("%+v %v", got, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, auth.ErrUnauthenticated) || fault.Of(err) != fault.Unauthenticated {
				t.Fatalf("err %v, want %q", err, c.want)
			}
		})
	}
	p := newProvider(t, op, nil)
	if _, err := p.VerifyJWT(t.Context(), id[:len(id)-4]+"AAAA"); err == nil {
		t.Error("a JWT with an altered signature was accepted")
	}
}

func TestSessionsAndCSRF(t *testing.T) {
	op := oidctest.Start(t, "", users, []oidctest.Client{cli, web})
	now := time.Now()
	clock := func() time.Time { return now }
	// Two api processes of one deployment share the secrets key.
	a := newProvider(t, op, func(c *oidcauth.Config) { c.Now = clock; c.SessionTTL = time.Hour })
	b := newProvider(t, op, func(c *oidcauth.Config) { c.Now = clock })
	other := newProvider(t, op, func(c *oidcauth.Config) { c.SessionKey = []byte("another-key-0123456789abcdef0123") })

	authURL, login, err := a.Begin("/catalog?x=1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(authURL, "code_challenge_method=S256") || !strings.Contains(authURL, "nonce=") || !strings.Contains(authURL, "state=") {
		t.Errorf("authorization URL %s lacks PKCE, nonce or state", authURL)
	}
	if login.Name != "__Host-backlot_login" || !login.Secure || !login.HttpOnly || login.SameSite != http.SameSiteLaxMode {
		t.Errorf("login cookie over https: %+v", login)
	}
	// A callback whose state is not the login cookie's is refused.
	r := httptest.NewRequest("GET", "/auth/callback?code=x&state=forged", nil)
	r.AddCookie(login)
	if _, _, err := a.Finish(t.Context(), r); err == nil || !strings.Contains(err.Error(), "state does not match") {
		t.Errorf("forged state: %v", err)
	}
	// A callback without the login cookie (another browser) is refused.
	if _, _, err := a.Finish(t.Context(), httptest.NewRequest("GET", "/auth/callback?code=x&state=y", nil)); err == nil || !strings.Contains(err.Error(), "another browser") {
		t.Errorf("no login cookie: %v", err)
	}

	// A session made by the issuer's sign-in: drive it through a.
	loc, resp := op.Login(t, oidctest.NewBrowser(), authURL, "ada", func(u *url.URL) bool { return u.Host == "backlot.example.com" })
	if resp != nil {
		t.Fatalf("sign-in stopped at %s: %d", loc, resp.StatusCode)
	}
	cb := httptest.NewRequest("GET", loc.RequestURI(), nil)
	cb.AddCookie(login)
	to, cookies, err := a.Finish(t.Context(), cb)
	if err != nil || to != "/catalog?x=1" || len(cookies) != 2 {
		t.Fatalf("finish: %q %v %v", to, cookies, err)
	}
	session := cookies[1]
	if session.Name != "__Host-backlot_session" || !session.Secure || !session.HttpOnly || session.MaxAge != 3600 {
		t.Errorf("session cookie: %+v", session)
	}
	req := func(method, csrf string) *http.Request {
		r := httptest.NewRequest(method, "/api/catalog/locations", nil)
		r.AddCookie(session)
		if csrf != "" {
			r.Header.Set(auth.CSRFHeader, csrf)
		}
		return r
	}
	for name, p := range map[string]*oidcauth.Provider{"a": a, "b": b} {
		got, ok, err := p.Session(req("GET", ""))
		if !ok || err != nil || got.Ref != "user:default/ada" || got.Method != auth.MethodSession {
			t.Errorf("%s: session %+v %v %v", name, got, ok, err)
		}
	}
	if _, ok, err := other.Session(req("GET", "")); !ok || err == nil {
		t.Errorf("a process with another key opened the session: %v", err)
	}
	token := a.CSRFToken(req("GET", ""))
	if _, _, err := a.Session(req("POST", "")); !errors.Is(err, auth.ErrCSRF) || fault.Of(err) != fault.Forbidden {
		t.Errorf("write without CSRF: %v", err)
	}
	if _, _, err := a.Session(req("DELETE", token+"x")); !errors.Is(err, auth.ErrCSRF) {
		t.Errorf("write with a wrong CSRF token: %v", err)
	}
	if _, _, err := b.Session(req("POST", token)); err != nil || token == "" {
		t.Errorf("write with the CSRF token: %v", err)
	}
	// Sessions expire.
	now = now.Add(61 * time.Minute)
	if _, ok, err := a.Session(req("GET", "")); !ok || err == nil || !strings.Contains(err.Error(), "session expired") {
		t.Errorf("an expired session: %v", err)
	}
	if c := a.Logout(); c.Name != session.Name || c.MaxAge >= 0 || c.Value != "" {
		t.Errorf("logout cookie %+v", c)
	}
}

func TestSafeRedirect(t *testing.T) {
	for _, c := range []struct {
		in, want string
	}{
		{"", "/"}, {"/", "/"}, {"/catalog/x?y=1#z", "/catalog/x?y=1#z"},
		{"https://evil.example", ""}, {"//evil.example", ""}, {"/\\evil.example", ""}, {"javascript:alert(1)", ""},
		{"catalog", ""}, {"/x\r\nSet-Cookie: a=b", ""},
	} {
		got, err := oidcauth.SafeRedirect(c.in)
		if got != c.want || (err == nil) != (c.want != "") {
			t.Errorf("SafeRedirect(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestSettingsValidate(t *testing.T) {
	ok := oidcauth.Settings{Issuer: "https://id.example.com", ClientID: "backlot", PublicURL: "https://backlot.example.com"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		mod  func(*oidcauth.Settings)
		flag string
	}{
		{func(s *oidcauth.Settings) { s.Issuer = "id.example.com" }, "--oidc-issuer"},
		{func(s *oidcauth.Settings) { s.ClientID = "" }, "--oidc-client-id"},
		{func(s *oidcauth.Settings) { s.Resolver = "byShoeSize" }, "--oidc-resolver"},
		{func(s *oidcauth.Settings) { s.PublicURL = "" }, "--public-url"},
		{func(s *oidcauth.Settings) { s.PublicURL = "https://x.example/backlot" }, "--public-url"},
	} {
		s := ok
		c.mod(&s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), c.flag) {
			t.Errorf("%+v: %v, want an error naming %s", s, err, c.flag)
		}
	}
}
