package webui

import (
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/auth"
	"backlot.dev/backlot/policies/permission"
)

func TestCatalogPage(t *testing.T) {
	f := newFixture(t, 120, Config{})
	for _, c := range []struct {
		name, path string
		status     int
		want       []string
		not        []string
	}{
		{"components by default", "/catalog", 200, []string{"25 shown of 120<", `aria-current="true"><span>✓ Component`},
			[]string{`aria-current="true"><span>✓ All kinds`}},
		{"every kind, by name", "/catalog?kind=all", 200, []string{"25 shown of 123<", `href="/catalog/default/component/service-0"`, "Kind", "Lifecycle", `aria-sort="ascending"`}, nil},
		{"search names", "/catalog?q=service-11", 200, []string{">service-11<", ">service-110<", "shown of 11<"}, []string{">service-12<", ">service-8<"}},
		{"search every field", "/catalog?q=service-11&scope=all", 200, []string{">service-11<", ">service-8<"}, nil},
		{"filter with counts", "/catalog?lifecycle=deprecated", 200, []string{"shown of 40<", `aria-current="true"`, "deprecated"}, []string{">service-0<"}},
		{"two values of a filter", "/catalog?lifecycle=deprecated&lifecycle=production", 200, []string{"shown of 80<"}, nil},
		{"sort descending", "/catalog?kind=component&sort=name&dir=desc", 200, []string{`aria-sort="descending"`, ">service-99<"}, nil},
		{"bad cursor", "/catalog?after=%21%21", 400, []string{"does not decode"}, nil},
		{"bad instant", "/catalog?asOf=yesterday-ish", 503, []string{"keeps no history"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, body := f.get(t, c.path)
			if code != c.status {
				t.Fatalf("GET %s: %d, want %d: %s", c.path, code, c.status, body)
			}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s lacks %q", c.path, w)
				}
			}
			for _, w := range c.not {
				if strings.Contains(body, w) {
					t.Errorf("GET %s holds %q", c.path, w)
				}
			}
		})
	}
}

// TestCatalogPaging follows the next links through every entity and back.
func TestCatalogPaging(t *testing.T) {
	f := newFixture(t, 60, Config{})
	path, seen := "/catalog?kind=component", map[string]bool{}
	for pages := 0; path != ""; pages++ {
		if pages > 5 {
			t.Fatal("more pages than entities")
		}
		code, body := f.get(t, path)
		if code != 200 {
			t.Fatalf("GET %s: %d", path, code)
		}
		for _, part := range strings.Split(body, `href="/catalog/default/component/`)[1:] {
			seen[part[:strings.IndexByte(part, '"')]] = true
		}
		path = ""
		if i := strings.Index(body, `rel="next"`); i >= 0 {
			j := strings.LastIndex(body[:i], `href="`)
			path = strings.ReplaceAll(body[j+6:i-2], "&amp;", "&")
		}
	}
	if len(seen) != 60 {
		t.Errorf("paging showed %d components, want 60", len(seen))
	}
}

func TestEntityPage(t *testing.T) {
	f := newFixture(t, 30, Config{})
	code, body := f.get(t, "/catalog/default/component/service-4")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	for _, w := range []string{"<h1>service-4</h1>", `<svg`, `href="/catalog/default/group/team-4"`, "ownedBy", "Version 1", "Service number 4", "Dashboard"} {
		if !strings.Contains(body, w) {
			t.Errorf("the entity page lacks %q", w)
		}
	}
	code, body = f.get(t, "/catalog/default/api/api-0")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	for _, w := range []string{`op-get`, "/orders/{id}", "Read an order", "Order", "total"} {
		if !strings.Contains(body, w) {
			t.Errorf("the API page lacks %q", w)
		}
	}
	if code, body := f.get(t, "/catalog/default/component/nope"); code != 404 || !strings.Contains(body, "component:default/nope") {
		t.Errorf("an unknown entity: %d %s", code, body)
	}
}

func TestHomeRendersThePersonsGroups(t *testing.T) {
	f := newFixture(t, 80, Config{Identify: func(*http.Request) (auth.Principal, error) {
		return auth.Principal{Ref: "user:default/ada"}, nil
	}})
	code, body := f.get(t, "/")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	for _, w := range []string{"Hello, ada", `href="/catalog/default/group/team-0"`, "service-0", "service-40", "Orders API", "runs no scaffolder"} {
		if !strings.Contains(body, w) {
			t.Errorf("Home lacks %q", w)
		}
	}
	if strings.Contains(body, ">service-1<") {
		t.Error("Home lists service-1, which team-1 owns")
	}
}

func TestSignInAndPermission(t *testing.T) {
	f := newFixture(t, 3, Config{
		Identify: func(r *http.Request) (auth.Principal, error) {
			if r.Header.Get("Authorization") == "" {
				return auth.Principal{}, errors.New("a valid bearer token is required")
			}
			return auth.Principal{Ref: "user:default/ada"}, nil
		},
		Decide: func(p permission.Principal, a permission.Permission, r permission.Resource) permission.Decision {
			if r != nil && r["ref"] == "component:default/service-1" {
				return permission.Decision{Reason: "not for ada"}
			}
			return permission.Decision{Allowed: true}
		},
	})
	code, body := f.get(t, "/catalog")
	if code != 401 || !strings.Contains(body, `href="/auth/login?redirect=%2Fcatalog"`) {
		t.Errorf("without a principal: %d %s", code, body)
	}
	if code, _ := f.get(t, "/catalog", "Authorization", "Bearer x"); code != 200 {
		t.Errorf("signed in: %d", code)
	}
	if code, body := f.get(t, "/catalog/default/component/service-1", "Authorization", "Bearer x"); code != 403 || !strings.Contains(body, "not for ada") {
		t.Errorf("an entity the policy denies: %d %s", code, body)
	}
	denyAll := newFixture(t, 1, Config{Decide: func(permission.Principal, permission.Permission, permission.Resource) permission.Decision {
		return permission.Decision{Reason: "closed"}
	}})
	if code, body := denyAll.get(t, "/"); code != 403 || !strings.Contains(body, "catalog.entity.read") {
		t.Errorf("a page the policy denies: %d %s", code, body)
	}
}

// TestMountKeepsTheAPI checks that the API keeps its paths, its 404 for
// unknown /api paths included, and that the Host guard refuses other names.
func TestMountKeepsTheAPI(t *testing.T) {
	f := newFixture(t, 1, Config{})
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "api:"+r.URL.Path, http.StatusNotFound) })
	h := Mount(api, f.srv)
	for path, want := range map[string]string{"/api/nope": "api:/api/nope", "/healthz": "api:/healthz", "/auth/login": "api:/auth/login", "/catalog": "<!doctype html>", "/": "<!doctype html>"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("GET %s answered %q, want %q", path, rec.Body.String()[:min(80, rec.Body.Len())], want)
		}
	}
	g := newFixture(t, 1, Config{GuardHosts: true, Hosts: []string{"portal.test"}})
	for host, want := range map[string]int{"localhost:7007": 200, "portal.test": 200, "evil.example": 403} {
		req := httptest.NewRequest(http.MethodGet, "/catalog", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		g.srv.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("Host %s: %d, want %d", host, rec.Code, want)
		}
	}
}

// TestFirstLoadWeight measures the JavaScript and CSS a first page load
// transfers, gzipped as served, against the 300 KB budget, and checks the
// page links exactly those assets.
func TestFirstLoadWeight(t *testing.T) {
	f := newFixture(t, 1, Config{})
	gz, raw := f.srv.FirstLoadBytes()
	t.Logf("first load: %d bytes of JS and CSS gzipped (%d uncompressed)", gz, raw)
	if gz > 300*1024 || gz == 0 {
		t.Errorf("first load transfers %d bytes of JS and CSS gzipped, budget 300 KB", gz)
	}
	_, page := f.get(t, "/catalog")
	total := 0
	for _, name := range []string{"app.js", "app.css"} {
		url := f.srv.assets.url(name)
		if !strings.Contains(page, url) {
			t.Fatalf("the page does not link %s", url)
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		f.srv.ServeHTTP(rec, req)
		if rec.Header().Get("Content-Encoding") != "gzip" || !strings.Contains(rec.Header().Get("Cache-Control"), "immutable") {
			t.Errorf("%s: headers %v", name, rec.Header())
		}
		total += rec.Body.Len()
		zr, err := gzip.NewReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	if total != gz {
		t.Errorf("served %d bytes gzipped, FirstLoadBytes says %d", total, gz)
	}
}

// TestEntityProcessingErrors shows the errors a refresh recorded about the
// entity, naming the file and the field.
func TestEntityProcessingErrors(t *testing.T) {
	f := newFixture(t, 3, Config{})
	ev, err := event.New(event.TypeProcessingErrorRecorded, "location:default/l1", event.ProcessingErrorRecorded{LocationID: "L1", Errors: []event.ProcessingError{{
		File: "/catalog/file-0.yaml", Document: 2, Entity: "component:default/service-2", Field: "spec.owner",
		Name: "InputError", Message: "spec.owner must be a string",
	}}}, event.Meta{Actor: "location:L1"})
	if err != nil {
		t.Fatal(err)
	}
	ev.Position = 100
	if err := f.cat.Apply(t.Context(), []event.Envelope{ev}); err != nil {
		t.Fatal(err)
	}
	code, body := f.get(t, "/catalog/default/component/service-2")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	for _, w := range []string{"Processing errors", "spec.owner must be a string", "/catalog/file-0.yaml", "field spec.owner"} {
		if !strings.Contains(body, w) {
			t.Errorf("the entity page lacks %q", w)
		}
	}
	if _, body := f.get(t, "/catalog/default/component/service-1"); strings.Contains(body, "Processing errors") {
		t.Error("an entity without errors shows the processing errors section")
	}
}
