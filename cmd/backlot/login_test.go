package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/internal/auth/oidcauth"
	"backlot.dev/backlot/internal/auth/oidctest"
	"backlot.dev/backlot/internal/client"
)

// TestLoginKeepsATokenThatLaterCommandsSend signs in with backlot login at
// a real OpenID Provider (in-process) through backlot dev's /auth/config:
// the loopback redirect with PKCE. The credentials file is the user's
// alone, later commands are authenticated by it (and refresh it once
// expired), and backlot logout forgets it.
func TestLoginKeepsATokenThatLaterCommandsSend(t *testing.T) {
	config := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", config)
	t.Setenv("BACKLOT_TOKEN", "")
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cli := oidctest.Client{ID: "backlot-cli", RedirectURIs: []string{"http://127.0.0.1/callback"}}
	web := oidctest.Client{ID: "backlot", Secret: "web-secret-0123456789", RedirectURIs: []string{base + "/auth/callback"}}
	op := oidctest.Start(t, "", []oidctest.User{{Username: "ada", Password: "pw-ada-0123", Email: "ada@example.com"}}, []oidctest.Client{cli, web})
	people := filepath.Join(t.TempDir(), "people.yaml")
	os.WriteFile(people, []byte(`apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: ada
spec:
  profile:
    email: ada@example.com
  memberOf: []
`), 0o600)
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte(web.Secret), 0o600)
	d, err := app.StartDev(context.Background(), app.DevConfig{
		DataDir: t.TempDir(), Addr: fmt.Sprintf("127.0.0.1:%d", port), RefreshInterval: time.Hour, Catalogs: []string{people},
		AllowNetworks: []string{"127.0.0.1"}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OIDC: oidcauth.Settings{Issuer: op.Issuer, ClientID: web.ID, ClientSecretFile: secret, CLIClientID: cli.ID},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	<-d.Loaded()

	if _, err := runRoot(t, "", "--url", base, "catalog", "list"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("catalog list before login: %v, want 401", err)
	}

	// The browser: the Provider's login form, then the CLI's listener.
	opened := make(chan error, 1)
	openBrowser = func(u string) error {
		go func() {
			loc, resp := op.Login(t, oidctest.NewBrowser(), u, "ada", func(l *url.URL) bool { return l.Path == "/callback" })
			if resp != nil {
				opened <- fmt.Errorf("sign-in stopped at %s: %d", loc, resp.StatusCode)
				return
			}
			r, err := http.Get(loc.String())
			if err == nil {
				b, _ := io.ReadAll(r.Body)
				r.Body.Close()
				if !strings.Contains(string(b), "Signed in") {
					err = fmt.Errorf("the CLI's callback answered %d %s", r.StatusCode, b)
				}
			}
			opened <- err
		}()
		return nil
	}
	t.Cleanup(func() { openBrowser = nil })
	out, err := runRoot(t, "", "login", "--server", base+"/")
	if err != nil {
		t.Fatalf("login: %v\n%s", err, out)
	}
	if err := <-opened; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "signed in to "+base+" at "+op.Issuer) {
		t.Errorf("login printed %q", out)
	}
	path := filepath.Join(config, "backlot", "credentials.json")
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want mode %o", p, fi.Mode(), err, want)
		}
	}

	// catalog list prints to standard output; its error is what tells.
	out, err = runRoot(t, "", "--url", base, "catalog", "list", "-o", "json")
	if err != nil {
		t.Fatalf("catalog list after login: %v\n%s", err, out)
	}

	// An expired token is refreshed with the refresh token, and kept.
	c, ok, err := client.LoadCredential(path, base)
	if err != nil || !ok || c.RefreshToken == "" {
		t.Fatalf("stored credential: %+v %v %v", c, ok, err)
	}
	old := c.IDToken
	c.Expiry = time.Now().Add(-time.Minute)
	if err := client.SaveCredential(path, base, c); err != nil {
		t.Fatal(err)
	}
	if out, err := runRoot(t, "", "--url", base, "catalog", "list", "-o", "json"); err != nil {
		t.Fatalf("catalog list with an expired token: %v\n%s", err, out)
	}
	c, _, _ = client.LoadCredential(path, base)
	if c.IDToken == old || !c.Expiry.After(time.Now()) {
		t.Errorf("the expired token was not refreshed: expiry %s", c.Expiry)
	}
	var raw map[string]any
	b, _ := os.ReadFile(path)
	if json.Unmarshal(b, &raw) != nil || raw["servers"] == nil {
		t.Errorf("credentials file: %s", b)
	}

	if out, err := runRoot(t, "", "--url", base, "logout"); err != nil || !strings.Contains(out, "signed out of "+base) {
		t.Errorf("logout: %v %s", err, out)
	}
	if _, err := runRoot(t, "", "--url", base, "catalog", "list"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("catalog list after logout: %v, want 401", err)
	}

	// The device flow: the user approves on the Provider's device page.
	openBrowser = func(u string) error {
		go func() { opened <- op.ApproveDevice(t, u, "ada") }()
		return nil
	}
	out, err = runRoot(t, "", "--url", base, "login", "--device")
	if err != nil {
		t.Fatalf("login --device: %v\n%s", err, out)
	}
	if err := <-opened; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "enter the code") {
		t.Errorf("login --device printed %q", out)
	}
	if _, err := runRoot(t, "", "--url", base, "catalog", "list"); err != nil {
		t.Errorf("catalog list after login --device: %v", err)
	}
}

// TestAnIssuerIsAnAuthenticator: serve and dev off loopback start with an
// OIDC issuer and no token file (on to the next thing they miss).
func TestAnIssuerIsAnAuthenticator(t *testing.T) {
	for _, env := range []string{"BACKLOT_KAFKA_BROKERS", "BACKLOT_AUTH_TOKENS", "BACKLOT_INSECURE_NO_AUTH", "BACKLOT_ROLES", "BACKLOT_ADDR",
		"BACKLOT_OIDC_ISSUER", "BACKLOT_OIDC_CLIENT_ID", "BACKLOT_PUBLIC_URL"} {
		t.Setenv(env, "")
	}
	if _, err := runRoot(t, "", "serve", "--oidc-issuer", "https://id.example.com"); err == nil || !strings.Contains(err.Error(), "--oidc-client-id") {
		t.Errorf("serve with an issuer and no client: %v, want the missing --oidc-client-id first", err)
	}
	if _, err := runRoot(t, "", "serve", "--oidc-issuer", "https://id.example.com", "--oidc-client-id", "backlot"); err == nil || !strings.Contains(err.Error(), "--public-url") {
		t.Errorf("serve with an issuer and no public URL: %v, want the missing --public-url first", err)
	}
	if _, err := runRoot(t, "", "serve", "--oidc-issuer", "https://id.example.com", "--oidc-client-id", "backlot", "--public-url", "https://backlot.example.com"); err == nil || !strings.Contains(err.Error(), "Kafka brokers") {
		t.Errorf("serve with an issuer: %v, want the missing brokers next", err)
	}
	t.Setenv("BACKLOT_OIDC_ISSUER", "https://id.example.com")
	t.Setenv("BACKLOT_OIDC_CLIENT_ID", "backlot")
	t.Setenv("BACKLOT_PUBLIC_URL", "https://backlot.example.com")
	if _, err := runRoot(t, "", "serve"); err == nil || !strings.Contains(err.Error(), "Kafka brokers") {
		t.Errorf("serve with BACKLOT_OIDC_ISSUER: %v, want the missing brokers next", err)
	}
	// dev off loopback gets past the check to the issuer's settings.
	t.Setenv("BACKLOT_OIDC_CLIENT_ID", "")
	if _, err := runRoot(t, "", "dev", "--addr", "0.0.0.0:0", "--data", t.TempDir(), "--no-workflows"); err == nil || !strings.Contains(err.Error(), "--oidc-client-id") {
		t.Errorf("dev off loopback with an issuer: %v, want the missing client id", err)
	}
}
