package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/internal/rebuild"
	"backlot.dev/backlot/projections/badges/badgetest"
)

// writeFiles writes files (slash paths relative to dir) with their contents.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func component(name, lifecycle string) string {
	return `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: ` + name + `, description: The ` + name + ` service}
spec: {type: service, lifecycle: ` + lifecycle + `, owner: team-a, system: shop}
`
}

type badgeView struct {
	Policy string `json:"policy"`
	Level  string `json:"level"`
	Checks []struct {
		ID     string `json:"id"`
		Passed bool   `json:"passed"`
		Error  string `json:"error"`
	} `json:"checks"`
}

// badgesOf returns an entity's badges by policy, at asOf when set.
func badgesOf(t *testing.T, d addrer, ref, asOf string) map[string]badgeView {
	t.Helper()
	var out struct{ Badges []badgeView }
	p := "/api/policies/entities/" + ref
	if asOf != "" {
		p += "?asOf=" + url.QueryEscape(asOf)
	}
	if code := get(t, d, p, &out); code != http.StatusOK {
		t.Fatalf("GET %s: %d", p, code)
	}
	m := map[string]badgeView{}
	for _, b := range out.Badges {
		m[b.Policy] = b
	}
	return m
}

func waitBadges(t *testing.T, d *app.Dev) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := d.WaitBadges(ctx); err != nil {
		t.Fatal(err)
	}
}

func badgeDump(t *testing.T, dataDir string) string {
	t.Helper()
	return badgetest.SQLiteTables(t, filepath.Join(dataDir, "badges.db"))
}

// TestBadgesFollowTheCatalogAndFacts rates two repositories with the example
// test-certification policy and a broken one: repository facts lift one to
// silver, CI facts to gold and back; each change is an event on the stream and
// in the entity's history, asOf answers the badges of the past, the broken
// policy fails only its broken check, facts that break their source's schema
// are refused naming the item and field, and a rebuild of the badge read model
// from the log is identical.
func TestBadgesFollowTheCatalogAndFacts(t *testing.T) {
	dir := t.TempDir()
	examples, err := filepath.Abs("../../examples/policies")
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{
		"payments/catalog-info.yaml": component("payments", "production"),
		"payments/README.md":         "# payments\n",
		"payments/CODEOWNERS":        "* @team-a\n",
		"payments/pay/pay_test.go":   "package pay\n",
		"legacy/catalog-info.yaml":   component("legacy", "production"),
		"broken.yaml": `apiVersion: backlot.dev/v1alpha1
kind: Policy
metadata: {name: broken}
spec:
  selector: entity.kind == "Component"
  levels: [basic]
  checks:
    - {id: good, level: basic, rule: 'has(entity.spec.owner)'}
    - {id: typed, level: basic, rule: 'entity.spec.owner + 1 == 2'}
`,
	})
	data := t.TempDir()
	d := startDev(t, app.DevConfig{DataDir: data, Roots: []string{dir, examples}})
	defer func() {
		if d != nil {
			d.Close()
		}
	}()
	base := "http://" + d.Addr()
	for _, f := range []string{filepath.Join(examples, "test-certification.yaml"), filepath.Join(dir, "broken.yaml"),
		filepath.Join(dir, "payments", "catalog-info.yaml"), filepath.Join(dir, "legacy", "catalog-info.yaml")} {
		if code, _ := postJSON(t, base+"/api/catalog/locations", map[string]string{"type": "file", "target": f}, nil); code != http.StatusCreated {
			t.Fatalf("register %s: %d", f, code)
		}
	}
	waitBadges(t, d)

	pay := badgesOf(t, d, "component/default/payments", "")
	if got := pay["test-certification"].Level; got != "silver" {
		t.Fatalf("payments: test-certification %q, want silver (repository facts): %+v", got, pay)
	}
	if got := badgesOf(t, d, "component/default/legacy", "")["test-certification"].Level; got != "bronze" {
		t.Fatalf("legacy: %q, want bronze (no README, CODEOWNERS or tests)", got)
	}
	b := pay["broken"]
	if len(b.Checks) != 2 || !b.Checks[0].Passed || b.Checks[1].Passed || !strings.Contains(b.Checks[1].Error, "policy broken: check typed: rule 1:") {
		t.Fatalf("broken policy: %+v", b)
	}
	silverAt := time.Now().UTC().Format(time.RFC3339Nano)
	time.Sleep(20 * time.Millisecond)

	// A schema for the ci source; facts that break it are refused.
	req, _ := http.NewRequest(http.MethodPut, base+"/api/facts/sources/ci", strings.NewReader(
		`{"schema": {"type": "object", "properties": {"coverage": {"type": "number", "minimum": 0, "maximum": 100}, "mainBranchPassing": {"type": "boolean"}}, "required": ["coverage"]}}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT schema: %d", resp.StatusCode)
	}
	for _, c := range []struct {
		name string
		body string
		want []string
	}{
		{"schema", `{"items": [{"entity": "component:default/payments", "source": "ci", "facts": {"coverage": "high"}}]}`, []string{"items[0]", "component:default/payments", "/coverage"}},
		{"unknown entity", `{"items": [{"entity": "component:default/nope", "source": "ci", "facts": {"coverage": 5}}]}`, []string{"items[0]", "no entity component:default/nope"}},
		{"built-in source", `{"items": [{"entity": "component:default/payments", "source": "repo", "facts": {"readme": true}}]}`, []string{"items[0]", "built-in"}},
		{"not an object", `{"items": [{"entity": "component:default/payments", "source": "ci", "facts": [1]}]}`, []string{"items[0]", "facts", "JSON object"}},
	} {
		code, body := status(t, http.MethodPost, base+"/api/facts", json.RawMessage(c.body))
		if code != http.StatusBadRequest {
			t.Fatalf("%s: %d %s", c.name, code, body)
		}
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: %s does not say %q", c.name, body, w)
			}
		}
	}

	// CI facts lift payments to gold, then a drop in coverage revokes it.
	report := func(coverage int) {
		t.Helper()
		code, body := status(t, http.MethodPost, base+"/api/facts", map[string]any{"items": []map[string]any{{
			"entity": "component:default/payments", "source": "ci", "facts": map[string]any{"coverage": coverage, "mainBranchPassing": true}}}})
		if code != http.StatusOK {
			t.Fatalf("POST facts: %d %s", code, body)
		}
	}
	report(91)
	if got := badgesOf(t, d, "component/default/payments", "")["test-certification"].Level; got != "gold" {
		t.Fatalf("after coverage 91: %q, want gold", got)
	}
	goldAt := time.Now().UTC().Format(time.RFC3339Nano)
	time.Sleep(20 * time.Millisecond)
	report(42)
	waitBadges(t, d)
	if got := badgesOf(t, d, "component/default/payments", "")["test-certification"].Level; got != "silver" {
		t.Fatalf("after coverage 42: %q, want silver", got)
	}
	// asOf answers the badges of the past.
	for at, want := range map[string]string{silverAt: "silver", goldAt: "gold"} {
		if got := badgesOf(t, d, "component/default/payments", at)["test-certification"].Level; got != want {
			t.Errorf("asOf %s: %q, want %q", at, got, want)
		}
	}

	// The award and the revocation are on the stream, about the entity.
	var feed struct {
		Items []struct {
			Event struct {
				Type, Subject, Actor string
				Data                 struct{ Policy, Level, PreviousLevel string }
			}
		}
	}
	if code := get(t, d, "/api/events?after=0&types=backlot.badge.awarded.v1,backlot.badge.revoked.v1&subject=component:default/payments", &feed); code != http.StatusOK {
		t.Fatalf("feed: %d", code)
	}
	var seq []string
	for _, it := range feed.Items {
		if it.Event.Data.Policy == "test-certification" {
			seq = append(seq, it.Event.Type[len("backlot.badge."):]+":"+it.Event.Data.PreviousLevel+">"+it.Event.Data.Level)
		}
	}
	if got := strings.Join(seq, " "); got != "awarded.v1:>silver awarded.v1:silver>gold revoked.v1:gold>silver" {
		t.Errorf("badge events of payments: %s", got)
	}
	// And in the entity's history.
	var hist struct {
		BadgeChanges []struct {
			Type string
			Data struct{ Policy, Level string }
		}
	}
	if code := get(t, d, "/api/audit/entities/component/default/payments/history", &hist); code != http.StatusOK || len(hist.BadgeChanges) < 3 {
		t.Fatalf("history: %d %+v", code, hist)
	}

	// Results roll up per owner; the campaign counts production components.
	var res struct {
		Total  int
		Counts map[string]int
		Owners []struct {
			Owner  string
			Counts map[string]int
		}
		Items []struct{ Entity, Level string }
	}
	if code := get(t, d, "/api/policies/test-certification/results", &res); code != http.StatusOK {
		t.Fatalf("results: %d", code)
	}
	if res.Total != 2 || res.Counts["silver"] != 1 || res.Counts["bronze"] != 1 || len(res.Owners) != 1 || res.Owners[0].Owner != "group:default/team-a" || len(res.Items) != 2 {
		t.Errorf("results: %+v", res)
	}
	var camp struct {
		Campaigns []struct {
			ID                        string
			Total, Reached, Remaining int
			Burndown                  []struct{ Remaining int }
		}
	}
	if code := get(t, d, "/api/policies/test-certification/campaigns?bucket=minute", &camp); code != http.StatusOK || len(camp.Campaigns) != 1 {
		t.Fatalf("campaigns: %d %+v", code, camp)
	}
	if c := camp.Campaigns[0]; c.Total != 2 || c.Reached != 1 || c.Remaining != 1 || len(c.Burndown) == 0 {
		t.Errorf("campaign: %+v", c)
	}
	var series struct {
		Series []struct{ Counts map[string]int }
	}
	if code := get(t, d, "/api/policies/test-certification/history?bucket=minute", &series); code != http.StatusOK || len(series.Series) == 0 {
		t.Fatalf("policy history: %d %+v", code, series)
	}

	// The README badge.
	resp, err = http.Get(base + "/api/badges/component/default/payments/test-certification.svg")
	if err != nil {
		t.Fatal(err)
	}
	svg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml; charset=utf-8" || !strings.Contains(string(svg), ">silver<") {
		t.Errorf("badge: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), svg)
	}

	// Rebuilding the read model from the log gives the same badges; a restart
	// rates nothing again.
	head, _ := d.LogHead(context.Background())
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = nil
	before := badgeDump(t, data)
	if _, err := rebuild.Catalog(context.Background(), data, nil); err != nil {
		t.Fatal(err)
	}
	if after := badgeDump(t, data); after != before {
		t.Fatalf("rebuilt badges differ:\n%s", firstDiff(before, after))
	}
	d = startDev(t, app.DevConfig{DataDir: data, Roots: []string{dir, examples}})
	waitBadges(t, d)
	if now, _ := d.LogHead(context.Background()); now != head {
		t.Errorf("the restart appended %d events", now-head)
	}
}

// TestRepositoryFactsFromGit registers a monorepo folder's catalog-info.yaml
// from a git repository: facts.repo describes that folder at the commit the
// entity was read at, a commit that adds tests lifts the badge, and a commit
// that adds CI beside the unchanged descriptor is reported at the next refresh.
func TestRepositoryFactsFromGit(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	examples, err := filepath.Abs("../../examples/policies")
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, repo, map[string]string{
		"services/ledger/catalog-info.yaml": component("ledger", "production"),
		"services/ledger/README.md":         "# ledger\n",
		"services/ledger/CODEOWNERS":        "* @team-a\n",
		"services/other/other_test.go":      "package other\n", // another folder's tests do not count
	})
	git(t, repo, "Ada|ada@example.com", "init", "-q", "-b", "main")
	git(t, repo, "Ada|ada@example.com", "add", ".")
	git(t, repo, "Ada|ada@example.com", "commit", "-q", "-m", "ledger")

	d := startDev(t, app.DevConfig{DataDir: t.TempDir(), Roots: []string{root, examples}})
	defer d.Close()
	base := "http://" + d.Addr()
	for _, loc := range []map[string]string{
		{"type": "file", "target": filepath.Join(examples, "test-certification.yaml")},
		{"type": "url", "target": "file://" + repo + "?ref=main&path=services/ledger/catalog-info.yaml"},
	} {
		if code, _ := postJSON(t, base+"/api/catalog/locations", loc, nil); code != http.StatusCreated {
			t.Fatalf("register %v: %d", loc, code)
		}
	}
	waitBadges(t, d)
	repoFacts := func() map[string]any {
		t.Helper()
		var out struct {
			Items []struct {
				Source string
				Facts  map[string]any
			}
		}
		get(t, d, "/api/facts/entities/component/default/ledger", &out)
		for _, f := range out.Items {
			if f.Source == "repo" {
				return f.Facts
			}
		}
		t.Fatalf("no repo facts: %+v", out)
		return nil
	}
	if f := repoFacts(); f["readme"] != true || f["codeowners"] != true || f["tests"] != false {
		t.Fatalf("repo facts: %v", f)
	}
	if got := badgesOf(t, d, "component/default/ledger", "")["test-certification"].Level; got != "bronze" {
		t.Fatalf("before tests: %q, want bronze", got)
	}

	// Repository facts are collected when the descriptor changes: the commit
	// that adds tests also tags the component.
	writeFiles(t, repo, map[string]string{"services/ledger/ledger_test.go": "package ledger\n",
		"services/ledger/catalog-info.yaml": strings.Replace(component("ledger", "production"), "description:", "tags: [tested], description:", 1)})
	git(t, repo, "Grace|grace@example.com", "add", ".")
	git(t, repo, "Grace|grace@example.com", "commit", "-q", "-m", "tests")
	if code, _ := postJSON(t, base+"/api/catalog/refresh", map[string]string{"entityRef": "component:default/ledger"}, nil); code != http.StatusOK {
		t.Fatalf("refresh: %d", code)
	}
	waitBadges(t, d)
	if f := repoFacts(); f["tests"] != true {
		t.Fatalf("repo facts after the commit: %v", f)
	}
	if got := badgesOf(t, d, "component/default/ledger", "")["test-certification"].Level; got != "silver" {
		t.Fatalf("after tests: %q, want silver", got)
	}

	// And when a push changes the folder's files but not the descriptor: a
	// commit that adds CI configuration reports facts.repo again. A commit
	// that changes only another folder, and a refresh with no new commit,
	// write no event.
	ctx := context.Background()
	refresh := func() int64 {
		t.Helper()
		if code, _ := postJSON(t, base+"/api/catalog/refresh", map[string]string{"entityRef": "component:default/ledger"}, nil); code != http.StatusOK {
			t.Fatalf("refresh: %d", code)
		}
		waitBadges(t, d)
		h, err := d.LogHead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	before := refresh()
	writeFiles(t, repo, map[string]string{"services/other/README.md": "# other\n"})
	git(t, repo, "Grace|grace@example.com", "add", ".")
	git(t, repo, "Grace|grace@example.com", "commit", "-q", "-m", "other")
	if got := refresh(); got != before {
		t.Errorf("a commit to another folder wrote %d events", got-before)
	}
	writeFiles(t, repo, map[string]string{"services/ledger/.gitlab-ci.yml": "test: {script: [go test ./...]}\n"})
	git(t, repo, "Grace|grace@example.com", "add", ".")
	git(t, repo, "Grace|grace@example.com", "commit", "-q", "-m", "ci")
	after := refresh()
	if after <= before {
		t.Error("a commit that adds CI beside the unchanged descriptor wrote no event")
	}
	if f := repoFacts(); f["ci"] != true || f["tests"] != true {
		t.Fatalf("repo facts after the CI commit: %v", f)
	}
	if got := refresh(); got != after {
		t.Errorf("a refresh with no new commit wrote %d events", got-after)
	}
}
