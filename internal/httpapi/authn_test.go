package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"backlot.dev/backlot/internal/auth"
)

// identifyAda knows one token, "good", of user:default/ada in two groups.
func identifyAda(r *http.Request) (auth.Principal, error) {
	if r.Header.Get("Authorization") == "Bearer good" {
		return auth.Principal{Ref: "user:default/ada", Groups: []string{"group:default/platform", "group:default/sre"}}, nil
	}
	return auth.Principal{}, errors.New("a valid bearer token is required")
}

func TestReadsNeedAPrincipalButHealthMetricsAndPublicBadgesDoNot(t *testing.T) {
	t.Parallel()
	for _, public := range []bool{false, true} {
		f := newFixture(t, func(c *Config) {
			c.Identify = identifyAda
			c.PublicBadges = public
		})
		get := func(path, token string) response {
			req, _ := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			return send(t, req)
		}
		for _, path := range []string{"/api/catalog/entities?limit=1", "/api/events", "/api/policies", "/api/audit/events", "/api/catalog/entities/by-name/component/default/checkout"} {
			r := get(path, "")
			if r.status != http.StatusUnauthorized {
				t.Errorf("public badges %v: GET %s without a token: %d %s, want 401", public, path, r.status, r.body)
				continue
			}
			if name, msg := r.errorOf(t); name != "AuthenticationError" || msg == "" {
				t.Errorf("GET %s: %s %q, want AuthenticationError", path, name, msg)
			}
			if get(path, "wrong").status != http.StatusUnauthorized {
				t.Errorf("GET %s with an unknown token passed", path)
			}
		}
		if r := get("/api/catalog/entities?limit=1", "good"); r.status != http.StatusOK {
			t.Errorf("read with a token: %d %s", r.status, r.body)
		}
		for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
			if r := get(path, ""); r.status != http.StatusOK {
				t.Errorf("GET %s without a token: %d %s, want 200", path, r.status, r.body)
			}
		}
		badge := get("/api/badges/component/default/checkout/p.svg", "")
		if public && badge.status == http.StatusUnauthorized {
			t.Errorf("public badge answered 401")
		}
		if !public && badge.status != http.StatusUnauthorized {
			t.Errorf("badge without a token, not public: %d, want 401", badge.status)
		}
	}
}

func TestThePrincipalAndItsGroupsReachTheHandler(t *testing.T) {
	t.Parallel()
	var seen auth.Principal
	s := &server{cfg: Config{Identify: identifyAda}, log: slog.New(slog.DiscardHandler)}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = auth.FromContext(r.Context())
		w.WriteHeader(http.StatusNoContent)
	})
	req := httptest.NewRequest(http.MethodGet, "/api/catalog/entities", nil)
	req.Header.Set("Authorization", "Bearer good")
	rec := httptest.NewRecorder()
	s.authenticate(next).ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent || seen.Ref != "user:default/ada" || strings.Join(seen.Groups, ",") != "group:default/platform,group:default/sre" {
		t.Fatalf("status %d principal %+v", rec.Code, seen)
	}
}

func TestGitHooksNeedASecretWhenRequired(t *testing.T) {
	t.Setenv(hookSecretEnv, "")
	for _, require := range []bool{false, true} {
		f := newFixture(t, func(c *Config) {
			c.Identify = identifyAda
			c.RequireHookSecret = require
		})
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/git/hooks/github", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		r := send(t, req)
		if !require {
			if r.status == http.StatusUnauthorized || r.status == http.StatusForbidden {
				t.Errorf("a hook without a token, no secret required: %d %s", r.status, r.body)
			}
			continue
		}
		name, msg := r.mustStatus(t, http.StatusForbidden).errorOf(t)
		if name != "NotAllowedError" || !strings.Contains(msg, hookSecretEnv) {
			t.Errorf("required secret missing: %s %q, want NotAllowedError naming %s", name, msg, hookSecretEnv)
		}
	}
}

func TestIdentifyNamesTheWritesActor(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.Identify = identifyAda })
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/catalog/refresh", strings.NewReader(`{"entityRef":"component:default/checkout"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer good")
	send(t, req).mustStatus(t, http.StatusOK)
	if c := f.writer.lastCall(t); c.Actor != "user:default/ada" {
		t.Fatalf("the write's actor is %q, want the principal", c.Actor)
	}
}
