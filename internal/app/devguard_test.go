package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"backlot.dev/backlot/internal/app"
)

// TestDevRefusesRebindingAndCrossSiteWrites is the attack of a web page a
// developer visits: a POST to backlot dev from another origin, and a request
// through a DNS name that the attacker points at 127.0.0.1.
func TestDevRefusesRebindingAndCrossSiteWrites(t *testing.T) {
	d := startDev(t, app.DevConfig{DataDir: t.TempDir(), HostNames: []string{"backlot.test"}})
	defer d.Close()
	base := "http://" + d.Addr()
	do := func(method, path, host, origin, ct, body string) (int, string) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, base+path, rd)
		if host != "" {
			req.Host = host
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	migration := `{"apiVersion":"backlot.dev/v1alpha1","kind":"Migration","metadata":{"name":"x"},"spec":{}}`
	for _, c := range []struct {
		name, method, path, host, origin, ct, body string
		status                                     int
		want                                       string
	}{
		{"a cross-site migration", "POST", "/api/migrations?dryRun=true", "", "https://evil.example", "application/json", migration, http.StatusForbidden, "Origin"},
		{"a rebound name", "GET", "/api/catalog/entities", "attacker.example", "", "", "", http.StatusForbidden, "Host"},
		{"a rebound name writing", "POST", "/api/migrations?dryRun=true", "attacker.example:7007", "", "application/json", migration, http.StatusForbidden, "Host"},
		{"a form post without a JSON type", "POST", "/api/migrations?dryRun=true", "", "", "text/plain", migration, http.StatusBadRequest, "Content-Type"},
		{"a post without a type", "POST", "/api/migrations?dryRun=true", "", "", "", migration, http.StatusUnsupportedMediaType, "Content-Type"},
		{"a configured name reads", "GET", "/api/catalog/entities", "backlot.test", "", "", "", http.StatusOK, ""},
		{"localhost reads", "GET", "/api/catalog/entities", "localhost", "", "", "", http.StatusOK, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := do(c.method, c.path, c.host, c.origin, c.ct, c.body)
			if status != c.status || !strings.Contains(body, c.want) {
				t.Fatalf("%d %s, want %d naming %s", status, body, c.status, c.want)
			}
		})
	}
}
