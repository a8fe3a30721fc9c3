package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/internal/auth"
	"backlot.dev/backlot/internal/auth/oidcauth"
	"backlot.dev/backlot/internal/auth/oidctest"
	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
	"backlot.dev/backlot/internal/ports"
	"backlot.dev/backlot/internal/testenv/pgtest"
)

// cookieRecorder records the Set-Cookie headers a browser receives.
type cookieRecorder struct{ set []string }

func (c *cookieRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		c.set = append(c.set, resp.Header.Values("Set-Cookie")...)
	}
	return resp, err
}

type me struct {
	Ref       string         `json:"ref"`
	Groups    []string       `json:"groups"`
	Method    string         `json:"method"`
	Claims    map[string]any `json:"claims"`
	CSRFToken string         `json:"csrfToken"`
}

// signinCall makes a request with the client and answers its status and body.
func signinCall(t *testing.T, c *http.Client, method, u string, header map[string]string, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func decodeMe(t *testing.T, body string) me {
	t.Helper()
	var m me
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return m
}

// TestOIDCSignIn signs people in at a real OpenID Provider (zitadel's op,
// in-process) through backlot dev: the browser flow with its session and
// CSRF, bearer JWTs, static tokens, and their groups through the catalog.
func TestOIDCSignIn(t *testing.T) {
	port, err := ports.Free("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	web := oidctest.Client{ID: "backlot", Secret: "web-secret-0123456789", RedirectURIs: []string{base + "/auth/callback"}}
	cli := oidctest.Client{ID: "backlot-cli", RedirectURIs: []string{"http://127.0.0.1/callback"}}
	users := []oidctest.User{{Username: "ada", Password: "pw-ada-0123", Email: "ada@example.com"}, {Username: "zed", Password: "pw-zed-0123", Email: "zed@example.com"}}
	op := oidctest.Start(t, "", users, []oidctest.Client{web, cli})

	dir := t.TempDir()
	secretFile := filepath.Join(dir, "client-secret")
	os.WriteFile(secretFile, []byte(web.Secret+"\n"), 0o600)
	line, err := auth.HashLine("static-token-0123456789", "service:ci", "team")
	if err != nil {
		t.Fatal(err)
	}
	tokens := filepath.Join(dir, "tokens")
	os.WriteFile(tokens, []byte(line+"\n"), 0o600)
	people, _ := filepath.Abs("testdata/people.yaml")
	d, err := app.StartDev(context.Background(), app.DevConfig{
		DataDir: filepath.Join(dir, "data"), Addr: fmt.Sprintf("127.0.0.1:%d", port), Logger: quietLogger(), RefreshInterval: time.Hour,
		Catalogs: []string{people}, AuthTokens: tokens, AllowNetworks: []string{"127.0.0.1"},
		OIDC: oidcauth.Settings{Issuer: op.Issuer, ClientID: web.ID, ClientSecretFile: secretFile, CLIClientID: cli.ID},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	select {
	case <-d.Loaded():
	case <-time.After(60 * time.Second):
		t.Fatal("catalog not loaded")
	}
	wantGroups := []string{"group:default/dept", "group:default/loop-a", "group:default/loop-b", "group:default/org", "group:default/team"}

	// A browser signs in and lands where it asked to go.
	rec := &cookieRecorder{}
	browser := oidctest.NewBrowser()
	browser.Transport = rec
	loc, resp := op.Login(t, browser, base+"/auth/login?redirect=/api/auth/me", "ada", func(u *url.URL) bool { return u.Host == "127.0.0.1:"+fmt.Sprint(port) && u.Path == "/api/auth/me" })
	if resp != nil {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("sign-in stopped at %s: %d %s", loc, resp.StatusCode, b)
	}
	var session string
	for _, c := range rec.set {
		if strings.HasPrefix(c, "backlot_session=") && len(c) > len("backlot_session=;") {
			session = c
		}
	}
	for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="} {
		if !strings.Contains(session, attr) {
			t.Errorf("session cookie %q lacks %s", session, attr)
		}
	}
	if strings.Contains(session, "Secure") {
		t.Errorf("session cookie over http is Secure: %q", session)
	}
	code, body := signinCall(t, browser, "GET", base+"/api/auth/me", nil, "")
	if code != 200 {
		t.Fatalf("me: %d %s", code, body)
	}
	m := decodeMe(t, body)
	if m.Ref != "user:default/ada" || m.Method != auth.MethodSession || !slices.Equal(m.Groups, wantGroups) || m.CSRFToken == "" || m.Claims["email"] != "ada@example.com" {
		t.Errorf("me after sign-in: %+v", m)
	}

	// A write with the session cookie needs the CSRF token.
	refresh := `{"entityRef":"component:default/team-service"}`
	if code, body := signinCall(t, browser, "POST", base+"/api/catalog/refresh", nil, refresh); code != 403 || !strings.Contains(body, auth.CSRFHeader) {
		t.Errorf("write without the CSRF header: %d %s", code, body)
	}
	if code, body := signinCall(t, browser, "POST", base+"/api/catalog/refresh", map[string]string{auth.CSRFHeader: "not-the-token"}, refresh); code != 403 {
		t.Errorf("write with a wrong CSRF token: %d %s", code, body)
	}
	if code, body := signinCall(t, browser, "POST", base+"/api/catalog/refresh", map[string]string{auth.CSRFHeader: m.CSRFToken}, refresh); code != 200 {
		t.Errorf("write with the CSRF token: %d %s", code, body)
	}

	// Only a path of this site is a place to return to.
	for _, bad := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example"} {
		if code, body := signinCall(t, browser, "GET", base+"/auth/login?redirect="+url.QueryEscape(bad), nil, ""); code != 400 {
			t.Errorf("redirect %q: %d %s", bad, code, body)
		}
	}

	// A person with no User entity is refused, and says why.
	loc, resp = op.Login(t, oidctest.NewBrowser(), base+"/auth/login", "zed", nil)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || loc.Path != "/auth/callback" || !strings.Contains(string(b), `no User entity of the catalog has spec.profile.email \"zed@example.com\"`) {
		t.Errorf("zed: %s %d %s", loc, resp.StatusCode, b)
	}

	// API clients: the issuer's JWT, and static tokens, with groups
	// expanded through the catalog.
	plain := &http.Client{Timeout: 30 * time.Second}
	id, _ := op.Tokens(t, cli, "ada").Extra("id_token").(string)
	code, body = signinCall(t, plain, "GET", base+"/api/auth/me", map[string]string{"Authorization": "Bearer " + id}, "")
	if m := decodeMe(t, body); code != 200 || m.Ref != "user:default/ada" || m.Method != auth.MethodJWT || !slices.Equal(m.Groups, wantGroups) || m.CSRFToken != "" {
		t.Errorf("bearer JWT: %d %s", code, body)
	}
	if code, body := signinCall(t, plain, "POST", base+"/api/catalog/refresh", map[string]string{"Authorization": "Bearer " + id}, refresh); code != 200 {
		t.Errorf("a bearer write needs no CSRF token: %d %s", code, body)
	}
	code, body = signinCall(t, plain, "GET", base+"/api/auth/me", map[string]string{"Authorization": "Bearer static-token-0123456789"}, "")
	if m := decodeMe(t, body); code != 200 || m.Ref != "service:ci" || m.Method != auth.MethodToken || !slices.Equal(m.Groups, []string{"group:default/dept", "group:default/org", "group:default/team"}) {
		t.Errorf("static token: %d %s", code, body)
	}
	zed, _ := op.Tokens(t, cli, "zed").Extra("id_token").(string)
	if code, body := signinCall(t, plain, "GET", base+"/api/auth/me", map[string]string{"Authorization": "Bearer " + zed}, ""); code != 403 || !strings.Contains(body, "no User entity") {
		t.Errorf("zed's JWT: %d %s", code, body)
	}
	// A token that claims the issuer but is signed with another key.
	forger := oidctest.Start(t, op.Issuer, users, []oidctest.Client{cli})
	forged, _ := forger.Tokens(t, cli, "ada").Extra("id_token").(string)
	if code, body := signinCall(t, plain, "GET", base+"/api/auth/me", map[string]string{"Authorization": "Bearer " + forged}, ""); code != 401 || !strings.Contains(body, "signature") {
		t.Errorf("a JWT signed by another key: %d %s", code, body)
	}
	// The CLI learns where to sign in.
	code, body = signinCall(t, plain, "GET", base+"/auth/config", nil, "")
	if !strings.Contains(body, `"issuer":"`+op.Issuer+`"`) || !strings.Contains(body, `"clientId":"backlot-cli"`) || code != 200 {
		t.Errorf("auth config: %d %s", code, body)
	}

	// Logout ends the session.
	if code, body := signinCall(t, browser, "POST", base+"/auth/logout", nil, ""); code != 403 {
		t.Errorf("logout without the CSRF header: %d %s", code, body)
	}
	if code, body := signinCall(t, browser, "POST", base+"/auth/logout", map[string]string{auth.CSRFHeader: m.CSRFToken}, ""); code != 204 {
		t.Errorf("logout: %d %s", code, body)
	}
	if code, body := signinCall(t, browser, "GET", base+"/api/auth/me", nil, ""); code != 401 {
		t.Errorf("me after logout: %d %s", code, body)
	}
}

// TestOIDCSignInServe: the api role of backlot serve signs in at the issuer
// too, resolving people and groups in the PostgreSQL catalog.
func TestOIDCSignInServe(t *testing.T) {
	t.Setenv("BACKLOT_SECRETS_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	cli := oidctest.Client{ID: "backlot-cli", RedirectURIs: []string{"http://127.0.0.1/callback"}}
	op := oidctest.Start(t, "", []oidctest.User{{Username: "ada", Password: "pw-ada-0123", Email: "ada@example.com"}}, []oidctest.Client{cli})
	people, _ := filepath.Abs("testdata/people.yaml")
	prefix := kafkatest.TopicPrefix(t)
	s := startServe(t, app.ServeConfig{KafkaBrokers: kafkatest.Brokers(t), TopicPrefix: prefix, Group: prefix + "projector",
		PostgresURL: pgtest.URL(t), Catalogs: []string{people}, Roots: []string{filepath.Dir(people)}, AllowNetworks: []string{"127.0.0.1"},
		OIDC: oidcauth.Settings{Issuer: op.Issuer, ClientID: "backlot", CLIClientID: cli.ID, PublicURL: "https://backlot.example.com"}})
	base := "http://" + s.Addr()
	plain := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	id, _ := op.Tokens(t, cli, "ada").Extra("id_token").(string)
	code, body := signinCall(t, plain, "GET", base+"/api/auth/me", map[string]string{"Authorization": "Bearer " + id}, "")
	if m := decodeMe(t, body); code != 200 || m.Ref != "user:default/ada" || len(m.Groups) != 5 {
		t.Errorf("bearer JWT on serve: %d %s", code, body)
	}
	if code, body := signinCall(t, plain, "GET", base+"/api/catalog/entities", nil, ""); code != 401 {
		t.Errorf("no credential on serve: %d %s", code, body)
	}
	req, _ := http.NewRequest("GET", base+"/auth/login?redirect=/catalog", nil)
	resp, err := plain.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 302 || !strings.HasPrefix(loc.String(), op.Issuer) || loc.Query().Get("redirect_uri") != "https://backlot.example.com/auth/callback" ||
		!strings.Contains(strings.Join(resp.Header.Values("Set-Cookie"), "\n"), "__Host-backlot_login=") {
		t.Errorf("login on serve: %d %s %v", resp.StatusCode, loc, resp.Header.Values("Set-Cookie"))
	}
}
