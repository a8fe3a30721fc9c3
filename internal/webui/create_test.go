package webui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/policies/permission"
)

// withTemplate is a fixture whose catalog also holds a two-page template
// tagged go.
func withTemplate(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t, 5, Config{})
	body := map[string]any{
		"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template",
		"metadata": map[string]any{"name": "svc", "title": "A service", "tags": []any{"go", "golden-path"}},
		"spec": map[string]any{
			"owner": "team-0", "type": "service",
			"parameters": []any{
				map[string]any{"title": "The service", "required": []any{"name", "owner"}, "properties": map[string]any{
					"name":  map[string]any{"title": "Name", "type": "string", "pattern": "^[a-z][a-z0-9-]+$"},
					"owner": map[string]any{"title": "Owner", "type": "string", "ui:field": "OwnerPicker"},
					"port":  map[string]any{"title": "Port", "type": "integer", "default": 8080, "maximum": 65535},
				}},
				map[string]any{"title": "The repository", "required": []any{"repoUrl"}, "properties": map[string]any{
					"repoUrl": map[string]any{"title": "Repository", "type": "string", "ui:field": "RepoUrlPicker", "ui:options": map[string]any{"allowedHosts": []any{"local"}}},
				}},
			},
			"steps": []any{map[string]any{"id": "log", "action": "debug:log", "input": map[string]any{"message": "hi"}}},
		},
	}
	if err := f.cat.Apply(context.Background(), []event.Envelope{upsert(t, body, 100)}); err != nil {
		t.Fatal(err)
	}
	return f
}

// post sends a form to the portal.
func (f *fixture) post(t *testing.T, path string, form url.Values, header ...string) (int, string, http.Header) {
	t.Helper()
	return f.postB(t, path, form, header...)
}

// postB is post for a test or a benchmark.
func (f *fixture) postB(tb testing.TB, path string, form url.Values, header ...string) (int, string, http.Header) {
	tb.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String(), rec.Header()
}

func TestCreatePageListsTemplatesByTag(t *testing.T) {
	f := withTemplate(t)
	code, page := f.get(t, "/create?tag=go")
	if code != http.StatusOK || !strings.Contains(page, `href="/create/templates/default/svc"`) || !strings.Contains(page, "golden-path") {
		t.Fatalf("%d\n%s", code, page)
	}
	if !strings.Contains(page, "This server runs no scaffolder") {
		t.Error("a server without workflows does not say so")
	}
	if _, page := f.get(t, "/create?tag=python"); strings.Contains(page, `href="/create/templates/default/svc"`) {
		t.Error("the tag filter keeps a template without the tag")
	}
	if _, page := f.get(t, "/create?q=Golden+service"); !strings.Contains(page, `href="/create/templates/default/svc"`) {
		t.Error("a search by a tag's and the title's words misses the template")
	}
	if _, page := f.get(t, "/create?q=python"); strings.Contains(page, `href="/create/templates/default/svc"`) {
		t.Error("a search finds a template that does not match")
	}
}

func TestCreateFormWalksItsPages(t *testing.T) {
	f := withTemplate(t)
	const path = "/create/templates/default/svc"
	code, page := f.get(t, path+"?name=pay")
	if code != http.StatusOK {
		t.Fatalf("%d\n%s", code, page)
	}
	for _, want := range []string{`id="f-name" name="name" value="pay"`, `id="f-port" name="port" value="8080"`, `list="f-owner-list"`,
		`<option value="group:default/team-0">`, `aria-current="step">1. The service`} {
		if !strings.Contains(page, want) {
			t.Errorf("the first page lacks %s", want)
		}
	}
	// Next with a bad name and no owner: the template's own messages, 422.
	code, page, _ = f.post(t, path, url.Values{"_step": {"0"}, "_action": {"next"}, "name": {"Pay Me"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "does not match pattern") || !strings.Contains(page, `id="f-owner-e" data-field-error role="alert">is required`) {
		t.Fatalf("next with bad values: %d\n%s", code, page)
	}
	// Validating as the person types leaves the empty owner alone.
	_, page, _ = f.post(t, path, url.Values{"_step": {"0"}, "_action": {"validate"}, "name": {"pay"}})
	if strings.Contains(page, "is required") {
		t.Error("an untouched required field is an error while the page is filled in")
	}
	code, page, _ = f.post(t, path, url.Values{"_step": {"0"}, "_action": {"next"}, "name": {"pay"}, "owner": {"group:default/team-0"}})
	if code != http.StatusOK || !strings.Contains(page, `<h2 id="h-page">The repository</h2>`) ||
		!strings.Contains(page, `<input type="hidden" name="name" value="pay">`) || !strings.Contains(page, `name="repoUrl.owner"`) {
		t.Fatalf("the second page: %d\n%s", code, page)
	}
	form := url.Values{"_step": {"1"}, "_action": {"next"}, "name": {"pay"}, "owner": {"group:default/team-0"}, "port": {"8080"},
		"repoUrl.host": {"local"}, "repoUrl.owner": {"team-0"}, "repoUrl.repo": {"pay"}}
	code, page, _ = f.post(t, path, form)
	if code != http.StatusOK || !strings.Contains(page, "Review") || !strings.Contains(page, "local?owner=team-0&amp;repo=pay") {
		t.Fatalf("the review: %d\n%s", code, page)
	}
	// Change, from the review, leads back to the value's page.
	code, page, _ = f.post(t, path, url.Values{"_step": {"2"}, "_goto": {"0"}, "name": {"pay"}})
	if code != http.StatusOK || !strings.Contains(page, `id="f-name" name="name" value="pay"`) {
		t.Fatalf("change: %d\n%s", code, page)
	}
	// Create without a scaffolder: 503, naming why.
	form.Set("_step", "2")
	form.Set("_action", "create")
	if code, page, _ := f.post(t, path, form); code != http.StatusServiceUnavailable || !strings.Contains(page, "runs no workflows") {
		t.Fatalf("create without workflows: %d\n%s", code, page)
	}
}

func TestFormsRefuseAnotherSite(t *testing.T) {
	f := withTemplate(t)
	for _, h := range [][]string{{"Origin", "https://evil.example"}, {"Sec-Fetch-Site", "cross-site"}} {
		code, page, _ := f.post(t, "/create/templates/default/svc", url.Values{"_step": {"0"}, "_action": {"next"}}, h...)
		if code != http.StatusForbidden || !strings.Contains(page, "may not write") {
			t.Errorf("%v: %d", h, code)
		}
	}
	code, _, _ := f.post(t, "/create/templates/default/svc", url.Values{"_step": {"0"}, "_action": {"next"}}, "Origin", "http://example.com", "Sec-Fetch-Site", "same-origin")
	if code == http.StatusForbidden {
		t.Error("the portal's own form is refused")
	}
}

func TestWorkflowPagesWithoutWorkflows(t *testing.T) {
	// The default policy lets only the auditors group read the audit trail.
	if code, page := newFixture(t, 1, Config{}).get(t, "/audit"); code != http.StatusForbidden || !strings.Contains(page, "audit.read") {
		t.Errorf("/audit for a principal outside the auditors group: %d", code)
	}
	f := newFixture(t, 1, Config{Decide: func(permission.Principal, permission.Permission, permission.Resource) permission.Decision {
		return permission.Decision{Allowed: true}
	}})
	for _, p := range []string{"/migrations", "/migrations/m-1", "/create/tasks/t-1"} {
		if code, page := f.get(t, p); code != http.StatusServiceUnavailable || !strings.Contains(page, "runs no workflows") {
			t.Errorf("%s: %d", p, code)
		}
	}
	for _, p := range []string{"/scorecards", "/audit"} {
		if code, _ := f.get(t, p); code != http.StatusServiceUnavailable {
			t.Errorf("%s: %d, want 503 without its store", p, code)
		}
	}
}

func TestLineChart(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	empty := string(lineChart("Nothing", nil))
	if !strings.Contains(empty, "no data yet") || !strings.Contains(empty, `role="img"`) {
		t.Errorf("empty chart %s", empty)
	}
	got := string(lineChart("Burndown <x>", []chartSeries{{Label: "left", Class: "remaining",
		Times: []time.Time{t0, t0.Add(time.Hour)}, Vals: []int{4, 1}}}))
	for _, want := range []string{"<title id=", "Burndown &lt;x&gt;", "Latest values: left: 1", `class="line remaining"`, ">4</text>"} {
		if !strings.Contains(got, want) {
			t.Errorf("the chart lacks %s:\n%s", want, got)
		}
	}
}
