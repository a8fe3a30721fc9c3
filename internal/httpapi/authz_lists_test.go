package httpapi

import (
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"backlot.dev/backlot/internal/auth"
	"backlot.dev/backlot/policies/permission"
	"backlot.dev/backlot/projections/catalogstore"
)

// hidingPolicy lets everyone signed in read every entity but groups and
// what team-b owns (unless they are in team-b): a policy whose read
// decision depends on each entity.
const hidingPolicy = `apiVersion: backlot.dev/v1alpha1
kind: PermissionPolicy
metadata: {name: hide-groups-and-team-b}
spec:
  rules:
    - name: read-but-groups-and-team-b
      permissions: [catalog.entity.read]
      effect: allow
      if: >-
        principal.authenticated && resource.?kind.orValue("") != "Group" &&
        (resource.?owner.orValue("") != "group:default/team-b" || "group:default/team-b" in principal.groups)
`

// kindNamesOf returns kind:name of each item.
func kindNamesOf(items []map[string]any) []string {
	out := make([]string, len(items))
	for i, e := range items {
		md, _ := e["metadata"].(map[string]any)
		kind, _ := e["kind"].(string)
		name, _ := md["name"].(string)
		out[i] = strings.ToLower(kind) + ":" + name
	}
	return out
}

// TestListsLeaveOutWhatThePolicyHides reads the catalog's lists under a
// policy that hides entities one by one, in pages of every kind, across the
// chunks the filter reads in, and checks each answer against the whole
// catalog read under the default policy with the hidden entities taken out.
// It changes scanChunk, so it does not run in parallel.
func TestListsLeaveOutWhatThePolicyHides(t *testing.T) {
	old := scanChunk
	scanChunk = 3
	t.Cleanup(func() { scanChunk = old })

	all := newFixture(t)
	var every []map[string]any
	all.get(t, "/entities?order=asc:metadata.name").mustStatus(t, http.StatusOK).decode(t, &every)
	var want []string
	hidden := 0
	for _, e := range every {
		spec, _ := e["spec"].(map[string]any)
		owner, _ := spec["owner"].(string)
		if e["kind"] == "Group" || owner == "team-b" || owner == "group:default/team-b" {
			hidden++
			continue
		}
		want = append(want, kindNamesOf([]map[string]any{e})[0])
	}
	if hidden < 20 || len(want) < 6 {
		t.Fatalf("the fixture hides %d and shows %d: too few to page", hidden, len(want))
	}

	p, err := permission.Parse("hide.yaml", []byte(hidingPolicy))
	if err != nil {
		t.Fatal(err)
	}
	engine, err := permission.Compile(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(c *Config) { c.Permissions = engine })

	t.Run("the whole list", func(t *testing.T) {
		var items []map[string]any
		f.get(t, "/entities?order=asc:metadata.name").mustStatus(t, http.StatusOK).decode(t, &items)
		if got := kindNamesOf(items); !slices.Equal(got, want) {
			t.Errorf("got %v\nwant %v", got, want)
		}
	})
	t.Run("pages by limit and after", func(t *testing.T) {
		var got []string
		next := catalogPrefix + "/entities?order=asc:metadata.name&limit=4"
		pages := 0
		for next != "" {
			if pages++; pages > 20 {
				t.Fatal("too many pages")
			}
			r := send(t, mustRequest(t, http.MethodGet, f.srv.URL+next)).mustStatus(t, http.StatusOK)
			var items []map[string]any
			r.decode(t, &items)
			if len(items) == 0 || len(items) > 4 {
				t.Fatalf("page %d holds %d items", pages, len(items))
			}
			got = append(got, kindNamesOf(items)...)
			next = ""
			if link := r.header.Get("Link"); link != "" {
				next = strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("got %v\nwant %v", got, want)
		}
		if wantPages := (len(want) + 3) / 4; pages != wantPages {
			t.Errorf("%d pages, want %d", pages, wantPages)
		}
	})
	t.Run("an offset counts what the principal sees", func(t *testing.T) {
		var items []map[string]any
		f.get(t, "/entities?order=asc:metadata.name&offset=2&limit=3").mustStatus(t, http.StatusOK).decode(t, &items)
		if got := kindNamesOf(items); !slices.Equal(got, want[2:5]) {
			t.Errorf("got %v, want %v", got, want[2:5])
		}
	})
	t.Run("by-query pages, totals and cursors both ways", func(t *testing.T) {
		var pages [][]string
		var last queryPageJSON
		path := "/entities/by-query?orderField=metadata.name,asc&limit=4"
		for i := 0; ; i++ {
			if i > 20 {
				t.Fatal("too many pages")
			}
			var p queryPageJSON
			f.get(t, path).mustStatus(t, http.StatusOK).decode(t, &p)
			if p.TotalItems != len(want) {
				t.Errorf("page %d: totalItems %d, want %d", i, p.TotalItems, len(want))
			}
			if i == 0 && p.PageInfo.PrevCursor != "" {
				t.Error("the first page has a prevCursor")
			}
			pages = append(pages, kindNamesOf(p.Items))
			last = p
			if p.PageInfo.NextCursor == "" {
				break
			}
			path = "/entities/by-query?limit=4&cursor=" + url.QueryEscape(p.PageInfo.NextCursor)
		}
		if got := slices.Concat(pages...); !slices.Equal(got, want) {
			t.Fatalf("forward: got %v\nwant %v", got, want)
		}
		back := [][]string{kindNamesOf(last.Items)}
		for cur := last; cur.PageInfo.PrevCursor != ""; {
			if len(back) > len(pages) {
				t.Fatal("backward: more pages than forward")
			}
			path := "/entities/by-query?limit=4&cursor=" + url.QueryEscape(cur.PageInfo.PrevCursor)
			cur = queryPageJSON{}
			f.get(t, path).mustStatus(t, http.StatusOK).decode(t, &cur)
			if cur.PageInfo.NextCursor == "" {
				t.Errorf("backward page %v has no nextCursor", kindNamesOf(cur.Items))
			}
			back = append(back, kindNamesOf(cur.Items))
		}
		slices.Reverse(back)
		if !reflect.DeepEqual(back, pages) {
			t.Errorf("backward pages %v\nforward pages %v", back, pages)
		}
	})
	t.Run("a filter on hidden entities finds none", func(t *testing.T) {
		var p queryPageJSON
		f.get(t, "/entities/by-query?filter=kind=group").mustStatus(t, http.StatusOK).decode(t, &p)
		if len(p.Items) != 0 || p.TotalItems != 0 {
			t.Errorf("groups: %d items, total %d", len(p.Items), p.TotalItems)
		}
	})
	t.Run("facets count what the principal sees", func(t *testing.T) {
		var got facetsResponse
		f.get(t, "/entity-facets?facet=kind&facet=spec.lifecycle").mustStatus(t, http.StatusOK).decode(t, &got)
		var full facetsResponse
		all.get(t, "/entity-facets?facet=kind").mustStatus(t, http.StatusOK).decode(t, &full)
		total := 0
		for _, c := range got.Facets["kind"] {
			if c.Value == "Group" {
				t.Errorf("the kind facet counts %d groups", c.Count)
			}
			total += c.Count
			i := slices.IndexFunc(full.Facets["kind"], func(fc catalogstore.FacetCount) bool { return fc.Value == c.Value })
			if i < 0 {
				t.Errorf("facet value %q is not one the store counts", c.Value)
			}
		}
		if total != len(want) {
			t.Errorf("the kind facet counts %d entities, want %d", total, len(want))
		}
	})
	t.Run("by-refs answers null for a hidden entity", func(t *testing.T) {
		var got struct {
			Items []map[string]any `json:"items"`
		}
		f.call(t, "POST", "/entities/by-refs", `{"entityRefs":["group:default/team-a","component:default/checkout","component:default/frontend"]}`).
			mustStatus(t, http.StatusOK).decode(t, &got)
		if len(got.Items) != 3 || got.Items[0] != nil || got.Items[1] == nil || got.Items[2] != nil {
			t.Errorf("items %v, want null, checkout, null", got.Items)
		}
	})
	t.Run("reading a hidden entity is refused", func(t *testing.T) {
		for _, path := range []string{"/entities/by-name/group/default/team-a", "/entities/by-name/component/default/frontend"} {
			r := f.get(t, path)
			if name, msg := r.errorOf(t); r.status != http.StatusForbidden || name != "NotAllowedError" || !strings.Contains(msg, "catalog.entity.read") {
				t.Errorf("%s: %d %s %s", path, r.status, name, msg)
			}
		}
		f.get(t, "/entities/by-name/component/default/checkout").mustStatus(t, http.StatusOK)
	})
	t.Run("team-b sees its own", func(t *testing.T) {
		g := newFixture(t, func(c *Config) {
			c.Permissions = engine
			c.Guest = &authPrincipalTeamB
		})
		var p queryPageJSON
		g.get(t, "/entities/by-query?filter=kind=component&limit=2").mustStatus(t, http.StatusOK).decode(t, &p)
		var full queryPageJSON
		all.get(t, "/entities/by-query?filter=kind=component&limit=2").mustStatus(t, http.StatusOK).decode(t, &full)
		if p.TotalItems != full.TotalItems {
			t.Errorf("team-b sees %d components, the catalog holds %d", p.TotalItems, full.TotalItems)
		}
	})
}

// authPrincipalTeamB is a guest in team-b.
var authPrincipalTeamB = auth.Principal{Ref: "user:default/bob", Groups: []string{"group:default/team-b"}}
