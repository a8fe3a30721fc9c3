package app_test

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
	"backlot.dev/backlot/internal/testenv/pgtest"
)

// TestServeRatesBadges runs the badge evaluator of backlot serve on Kafka and
// PostgreSQL: a policy and a component registered, a fact reported, and the
// badge follows, as in backlot dev.
func TestServeRatesBadges(t *testing.T) {
	dir := t.TempDir()
	examples, err := filepath.Abs("../../examples/policies")
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{
		"payments/catalog-info.yaml": component("payments", "production"),
		"ci-health.yaml": `apiVersion: backlot.dev/v1alpha1
kind: Policy
metadata: {name: ci-health}
spec:
  selector: entity.kind == "Component"
  levels: [green]
  checks:
    - {id: coverage, level: green, rule: 'facts.?ci.?coverage.orValue(0) >= 80'}
`})
	brokers := kafkatest.Brokers(t)
	prefix := kafkatest.TopicPrefix(t)
	s := startServe(t, app.ServeConfig{KafkaBrokers: brokers, TopicPrefix: prefix, Group: prefix + "projector",
		PostgresURL: pgtest.URL(t), Roots: []string{dir, examples}})
	base := "http://" + s.Addr()
	for _, f := range []string{filepath.Join(examples, "test-certification.yaml"), filepath.Join(dir, "ci-health.yaml"), filepath.Join(dir, "payments", "catalog-info.yaml")} {
		if code, body := status(t, http.MethodPost, base+"/api/catalog/locations", map[string]string{"type": "file", "target": f}); code != http.StatusCreated {
			t.Fatalf("register %s: %d %s", f, code, body)
		}
	}
	waitLevel := func(policy, want string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			got := badgesOf(t, s, "component/default/payments", "")[policy].Level
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s on payments: %q, want %q", policy, got, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitLevel("test-certification", "bronze")
	code, body := status(t, http.MethodPost, base+"/api/facts", map[string]any{"items": []map[string]any{{
		"entity": "component:default/payments", "source": "ci", "facts": map[string]any{"coverage": 90, "mainBranchPassing": true}}}})
	if code != http.StatusOK {
		t.Fatalf("facts: %d %s", code, body)
	}
	// The report answered once rated: its badge is readable at once.
	if got := badgesOf(t, s, "component/default/payments", "")["ci-health"].Level; got != "green" {
		t.Fatalf("ci-health on payments once the report answered: %q, want green", got)
	}
	var facts struct {
		Items []struct{ Source string }
	}
	if code := get(t, s, "/api/facts/entities/component/default/payments", &facts); code != http.StatusOK || len(facts.Items) < 2 {
		t.Fatalf("facts of payments: %d %+v (want ci and the built-in catalog facts)", code, facts)
	}
	var hist struct {
		BadgeChanges []struct{ Type string }
	}
	if code := get(t, s, "/api/audit/entities/component/default/payments/history", &hist); code != http.StatusOK || len(hist.BadgeChanges) == 0 {
		t.Fatalf("history: %d %+v", code, hist)
	}
}
