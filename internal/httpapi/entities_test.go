package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestEntitiesFilter(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	teamA := []string{"api:default/payments-api", "component:default/billing", "component:default/checkout", "system:default/payments"}
	tests := []struct {
		name    string
		filters []string
		want    []string
		// wantAll says the answer is every entity.
		wantAll bool
		// wantCount checks only the number of entities.
		wantCount int
	}{
		{name: "one condition", filters: []string{"kind=component"}, wantCount: componentCount},
		{name: "conditions in one filter are ANDed", filters: []string{"kind=component,spec.type=service"},
			want: []string{"component:default/billing", "component:default/checkout"}},
		{name: "filters are ORed", filters: []string{"kind=group", "kind=user"},
			want: []string{"group:default/team-a", "group:default/team-b", "user:default/jdoe"}},
		{name: "bare key means exists", filters: []string{"metadata.title"}, want: []string{"component:default/frontend"}},
		{name: "exists ANDed with a value", filters: []string{"kind=component,metadata.title"}, want: []string{"component:default/frontend"}},
		{name: "keys and values are case-insensitive", filters: []string{"KIND=COMPONENT,Metadata.Name=CheckOut"},
			want: []string{"component:default/checkout"}},
		{name: "array items match their list's key", filters: []string{"metadata.tags=java"}, want: []string{"component:default/checkout"}},
		{name: "values of one key in one filter are alternatives", filters: []string{"metadata.tags=JAVA,metadata.tags=go"},
			want: []string{"component:default/billing", "component:default/checkout"}},
		{name: "array items as keys", filters: []string{"metadata.tags.java"}, want: []string{"component:default/checkout"}},
		{name: "relation", filters: []string{"relations.ownedBy=group:default/team-a"}, want: teamA},
		{name: "relation type and target are case-insensitive", filters: []string{"relations.OWNEDBY=Group:Default/Team-A"}, want: teamA},
		{name: "reverse relation", filters: []string{"relations.hasMember=user:default/jdoe"}, want: []string{"group:default/team-a"}},
		{name: "nested spec field", filters: []string{"spec.profile.displayName=jane doe"}, want: []string{"user:default/jdoe"}},
		{name: "annotation key with dots and slash", filters: []string{"metadata.annotations.backstage.io/techdocs-ref=dir:."},
			want: []string{"component:default/checkout"}},
		{name: "no match", filters: []string{"kind=template"}, want: []string{}},
		{name: "empty filter is ignored", filters: []string{""}, wantAll: true},
		{name: "no filter", wantAll: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := url.Values{"filter": tt.filters}
			got := refsOf(t, f.get(t, "/entities?"+q.Encode()).mustStatus(t, http.StatusOK).body)
			switch {
			case tt.wantAll:
				if len(got) != entityCount {
					t.Errorf("got %d entities, want all %d", len(got), entityCount)
				}
			case tt.wantCount > 0:
				if len(got) != tt.wantCount {
					t.Errorf("got %d entities, want %d", len(got), tt.wantCount)
				}
			default:
				if !slices.Equal(got, tt.want) {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			}
			// by-query applies the same filters.
			var page queryResponse
			f.get(t, "/entities/by-query?limit=1000&"+q.Encode()).mustStatus(t, http.StatusOK).decode(t, &page)
			if page.TotalItems != len(got) || len(page.Items) != len(got) {
				t.Errorf("by-query: totalItems %d, %d items; GET /entities: %d", page.TotalItems, len(page.Items), len(got))
			}
		})
	}
}

func TestEntitiesBadParameters(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name, path, wantMsg string
	}{
		{"filter without key", "/entities?filter=kind=component,=x", "'=x' is not a valid statement"},
		{"filter with a doubled equals sign", "/entities?filter=" + url.QueryEscape("garbage==="), "'garbage===' is not a valid statement"},
		{"limit not an integer", "/entities?limit=ten", "Invalid limit, not an integer"},
		{"limit zero", "/entities?limit=0", "Invalid limit, must be greater than zero"},
		{"negative offset", "/entities?offset=-1", "Invalid offset"},
		{"order without direction", "/entities?order=metadata.name", `Invalid order parameter "metadata.name"`},
		{"malformed after", "/entities?after=%25%25", "Malformed after cursor"},
		{"array fields", "/entities?fields=metadata.tags[0]", "array type fields are not supported"},
		{"by-query bad order", "/entities/by-query?orderField=metadata.name,up", "must be asc or desc"},
		{"by-query negative limit", "/entities/by-query?limit=-1", "Invalid limit"},
		{"by-query malformed cursor", "/entities/by-query?cursor=bm90LWpzb24", "Malformed cursor"},
		{"by-query bad totalItems", "/entities/by-query?totalItems=some", "Invalid totalItems"},
		{"facets without facet", "/entity-facets?filter=kind=component", "Missing facet parameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := f.get(t, tt.path).mustStatus(t, http.StatusBadRequest)
			name, msg := r.errorOf(t)
			if name != "InputError" || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("got %s %q, want InputError containing %q", name, msg, tt.wantMsg)
			}
		})
	}
}

func TestEntitiesFields(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name   string
		filter string
		fields []string
		want   string
	}{
		{"paths keep their nesting", "metadata.name=checkout", []string{"metadata.name,kind,spec.owner"},
			`{"kind":"Component","metadata":{"name":"checkout"},"spec":{"owner":"team-a"}}`},
		{"missing paths are left out", "metadata.name=team-b", []string{"metadata.name,kind,spec.owner"},
			`{"kind":"Group","metadata":{"name":"team-b"}}`},
		{"repeated parameters add up", "metadata.name=checkout", []string{"kind", "metadata.name"},
			`{"kind":"Component","metadata":{"name":"checkout"}}`},
		{"keys with dots", "metadata.name=checkout", []string{"metadata.annotations.backstage.io/techdocs-ref"},
			`{"metadata":{"annotations":{"backstage.io/techdocs-ref":"dir:."}}}`},
		{"a subtree and a path inside it", "metadata.name=jdoe", []string{"spec.profile.displayName,spec", "kind"},
			`{"kind":"User","spec":{"profile":{"displayName":"Jane Doe"},"memberOf":["team-a"]}}`},
		{"relations", "metadata.name=jdoe", []string{"relations"},
			`{"relations":[{"type":"memberOf","targetRef":"group:default/team-a"}]}`},
		{"nothing found", "metadata.name=checkout", []string{"spec.nothing"}, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := url.Values{"filter": {tt.filter}, "fields": tt.fields}
			r := f.get(t, "/entities?"+q.Encode()).mustStatus(t, http.StatusOK)
			jsonEqual(t, r.body, "["+tt.want+"]")

			var page queryResponse
			f.get(t, "/entities/by-query?"+q.Encode()).mustStatus(t, http.StatusOK).decode(t, &page)
			if len(page.Items) != 1 {
				t.Fatalf("by-query: %d items, want 1", len(page.Items))
			}
			jsonEqual(t, page.Items[0], tt.want)
		})
	}
}

func TestEntitiesPaging(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	names := componentNames()
	reversed := slices.Clone(names)
	slices.Reverse(reversed)
	tests := []struct {
		name      string
		query     string
		want      []string
		wantPages int
	}{
		{"ascending", "filter=kind=component&order=asc:metadata.name&limit=10", names, 3},
		{"descending", "filter=kind=component&order=desc:metadata.name&limit=10", reversed, 3},
		{"offset", "filter=kind=component&order=asc:metadata.name&limit=5&offset=20", names[20:], 2},
		{"one page", "filter=kind=component&order=asc:metadata.name&limit=100", names, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			pages := 0
			next := catalogPrefix + "/entities?" + tt.query
			for next != "" {
				pages++
				if pages > 10 {
					t.Fatal("too many pages")
				}
				r := send(t, mustRequest(t, http.MethodGet, f.srv.URL+next)).mustStatus(t, http.StatusOK)
				var items []map[string]any
				r.decode(t, &items)
				got = append(got, namesOf(items)...)
				next = ""
				if link := r.header.Get("Link"); link != "" {
					if !strings.HasPrefix(link, "<") || !strings.HasSuffix(link, `>; rel="next"`) {
						t.Fatalf("malformed Link %q", link)
					}
					next = strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v\nwant %v", got, tt.want)
			}
			if pages != tt.wantPages {
				t.Errorf("%d pages, want %d", pages, tt.wantPages)
			}
		})
	}
}

// TestEntitiesStreamsInChunks reads more entities than one chunk of the store.
// It changes streamChunkSize, so it does not run in parallel.
func TestEntitiesStreamsInChunks(t *testing.T) {
	f := newFixture(t)
	old := streamChunkSize
	streamChunkSize = 4
	t.Cleanup(func() { streamChunkSize = old })
	r := f.get(t, "/entities?filter=kind=component&order=asc:metadata.name&fields=metadata.name").mustStatus(t, http.StatusOK)
	var items []map[string]any
	r.decode(t, &items)
	if got := namesOf(items); !slices.Equal(got, componentNames()) {
		t.Errorf("got %v", got)
	}
	r = f.get(t, "/entities?filter=kind=nothing")
	jsonEqual(t, r.mustStatus(t, http.StatusOK).body, `[]`)
}

func mustRequest(t *testing.T, method, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// queryAll follows nextCursor from the first page of the query and returns the
// pages' names and the last page.
func queryAll(t *testing.T, f *fixture, query string) ([][]string, queryPageJSON) {
	t.Helper()
	var pages [][]string
	var last queryPageJSON
	path := "/entities/by-query?" + query
	for i := 0; ; i++ {
		if i > 50 {
			t.Fatal("too many pages")
		}
		var p queryPageJSON
		f.get(t, path).mustStatus(t, http.StatusOK).decode(t, &p)
		if i == 0 && p.PageInfo.PrevCursor != "" && !strings.Contains(query, "offset") {
			t.Errorf("first page has a prevCursor")
		}
		pages = append(pages, namesOf(p.Items))
		last = p
		if p.PageInfo.NextCursor == "" {
			return pages, last
		}
		path = "/entities/by-query?limit=" + limitOf(query) + "&cursor=" + url.QueryEscape(p.PageInfo.NextCursor)
	}
}

func limitOf(query string) string {
	q, _ := url.ParseQuery(query)
	return q.Get("limit")
}

// queryPageJSON is a by-query answer decoded for tests.
type queryPageJSON struct {
	Items      []map[string]any `json:"items"`
	TotalItems int              `json:"totalItems"`
	PageInfo   pageInfo         `json:"pageInfo"`
}

func TestQueryEntitiesPaging(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	names := componentNames()
	reversed := slices.Clone(names)
	slices.Reverse(reversed)
	tests := []struct {
		name  string
		query string
		want  []string
		// sorted says only the set of names is checked, not their order.
		sorted bool
	}{
		{"ascending", "filter=kind=component&orderField=metadata.name,asc&limit=7", names, false},
		{"descending", "filter=kind=component&orderField=metadata.name,desc&limit=7", reversed, false},
		{"uneven pages", "filter=kind=component&orderField=metadata.name,asc&limit=5", names, false},
		{"order by a spec field", "filter=kind=component&orderField=spec.type,desc&limit=4", names, true},
		{"default order", "filter=kind=component&limit=6", names, true},
		{"one page", "filter=kind=component&orderField=metadata.name&limit=50", names, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pages, last := queryAll(t, f, tt.query)
			var got []string
			for _, p := range pages {
				got = append(got, p...)
			}
			if tt.sorted {
				sort.Strings(got)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("forward: got %v\nwant %v", got, tt.want)
			}
			if last.TotalItems != len(tt.want) {
				t.Errorf("totalItems %d, want %d", last.TotalItems, len(tt.want))
			}
			// Walk back from the last page with prevCursor: the same pages, reversed.
			back := [][]string{namesOf(last.Items)}
			cur := last
			for cur.PageInfo.PrevCursor != "" {
				if len(back) > len(pages) {
					t.Fatalf("backward: more pages than forward (%d)", len(pages))
				}
				path := "/entities/by-query?limit=" + limitOf(tt.query) + "&cursor=" + url.QueryEscape(cur.PageInfo.PrevCursor)
				cur = queryPageJSON{}
				f.get(t, path).mustStatus(t, http.StatusOK).decode(t, &cur)
				if cur.TotalItems != len(tt.want) {
					t.Errorf("backward: totalItems %d, want %d", cur.TotalItems, len(tt.want))
				}
				if cur.PageInfo.NextCursor == "" {
					t.Errorf("backward page %v has no nextCursor", namesOf(cur.Items))
				}
				back = append(back, namesOf(cur.Items))
			}
			slices.Reverse(back)
			if !reflect.DeepEqual(back, pages) {
				t.Errorf("backward pages %v\nforward pages %v", back, pages)
			}
		})
	}
}

func TestQueryEntities(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name      string
		query     string
		want      []string // names, in order
		wantTotal int
		wantNext  bool
		wantPrev  bool
	}{
		{name: "full text in named fields", query: "fullTextFilterTerm=shop&fullTextFilterFields=metadata.name,metadata.title",
			want: []string{"frontend"}, wantTotal: 1},
		{name: "full text is case-insensitive", query: "fullTextFilterTerm=SHOP%20FR&fullTextFilterFields=metadata.title",
			want: []string{"frontend"}, wantTotal: 1},
		{name: "full text searches the order field by default", query: "fullTextFilterTerm=svc-1&orderField=metadata.name,asc&limit=3",
			want: []string{"svc-10", "svc-11", "svc-12"}, wantTotal: 10, wantNext: true},
		{name: "full text in several fields", query: "fullTextFilterTerm=payments&orderField=metadata.name,asc&fullTextFilterFields=metadata.name,metadata.tags,metadata.description,spec.system",
			want: []string{"checkout", "payments", "payments-api", "team-a"}, wantTotal: 4},
		{name: "full text searches every field without fields or order", query: "fullTextFilterTerm=Payments",
			want: []string{"team-a", "payments", "checkout", "payments-api"}, wantTotal: 4},
		{name: "full text and filter", query: "filter=kind=component&fullTextFilterTerm=payments&orderField=metadata.name,asc",
			want: []string{}, wantTotal: 0},
		{name: "limit zero answers only the total", query: "filter=kind=component&limit=0", want: []string{}, wantTotal: componentCount},
		{name: "totalItems excluded", query: "filter=kind=group&orderField=metadata.name&totalItems=exclude",
			want: []string{"team-a", "team-b"}, wantTotal: 0},
		{name: "offset", query: "filter=kind=component&orderField=metadata.name&offset=26",
			want: []string{"svc-24", "svc-25"}, wantTotal: componentCount, wantPrev: true},
		{name: "a large limit", query: "filter=kind=component&orderField=metadata.name,asc&limit=100000",
			want: componentNames(), wantTotal: componentCount},
		{name: "default limit is 20", query: "filter=kind=component&orderField=metadata.name,asc",
			want: componentNames()[:20], wantTotal: componentCount, wantNext: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var p queryPageJSON
			f.get(t, "/entities/by-query?"+tt.query).mustStatus(t, http.StatusOK).decode(t, &p)
			if got := namesOf(p.Items); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if p.TotalItems != tt.wantTotal {
				t.Errorf("totalItems %d, want %d", p.TotalItems, tt.wantTotal)
			}
			if (p.PageInfo.NextCursor != "") != tt.wantNext || (p.PageInfo.PrevCursor != "") != tt.wantPrev {
				t.Errorf("pageInfo %+v, want next %v prev %v", p.PageInfo, tt.wantNext, tt.wantPrev)
			}
		})
	}

	t.Run("cursor overrides the query's other parameters", func(t *testing.T) {
		t.Parallel()
		var first, second, mixed queryPageJSON
		f.get(t, "/entities/by-query?filter=kind=component&orderField=metadata.name&limit=5").mustStatus(t, http.StatusOK).decode(t, &first)
		cursor := url.QueryEscape(first.PageInfo.NextCursor)
		f.get(t, "/entities/by-query?limit=5&cursor="+cursor).mustStatus(t, http.StatusOK).decode(t, &second)
		f.get(t, "/entities/by-query?limit=5&filter=kind=group&orderField=metadata.name,desc&fullTextFilterTerm=zzz&cursor="+cursor).
			mustStatus(t, http.StatusOK).decode(t, &mixed)
		if !slices.Equal(namesOf(second.Items), componentNames()[5:10]) {
			t.Errorf("second page %v", namesOf(second.Items))
		}
		if !reflect.DeepEqual(namesOf(mixed.Items), namesOf(second.Items)) {
			t.Errorf("with other parameters: %v, want %v", namesOf(mixed.Items), namesOf(second.Items))
		}
	})

	t.Run("fields apply to cursor pages", func(t *testing.T) {
		t.Parallel()
		var first, second queryPageJSON
		f.get(t, "/entities/by-query?filter=kind=component&orderField=metadata.name&limit=2").mustStatus(t, http.StatusOK).decode(t, &first)
		f.get(t, "/entities/by-query?limit=1&fields=metadata.name&cursor="+url.QueryEscape(first.PageInfo.NextCursor)).
			mustStatus(t, http.StatusOK).decode(t, &second)
		raw, _ := json.Marshal(second.Items)
		jsonEqual(t, raw, `[{"metadata":{"name":"frontend"}}]`)
	})
}

func TestEntityByName(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var e map[string]any
	f.get(t, "/entities/by-name/COMPONENT/Default/CheckOut").mustStatus(t, http.StatusOK).decode(t, &e)
	md := e["metadata"].(map[string]any)
	if md["name"] != "checkout" || md["uid"] != f.uids["component:default/checkout"] || md["etag"] == "" {
		t.Errorf("metadata %v", md)
	}
	raw, _ := json.Marshal(e["relations"])
	jsonEqual(t, raw, `[
		{"type":"dependencyOf","targetRef":"component:default/billing"},
		{"type":"ownedBy","targetRef":"group:default/team-a"},
		{"type":"partOf","targetRef":"system:default/payments"},
		{"type":"providesApi","targetRef":"api:default/payments-api"}]`)

	r := f.get(t, "/entities/by-name/component/default/nope").mustStatus(t, http.StatusNotFound)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("content type %q", ct)
	}
	jsonEqual(t, r.body, `{
		"error": {"name": "NotFoundError", "message": "No entity named 'nope' found, with kind 'component' in namespace 'default'"},
		"request": {"method": "GET", "url": "/api/catalog/entities/by-name/component/default/nope"},
		"response": {"statusCode": 404}}`)
}

func TestEntityByUID(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	uid := f.uids["group:default/team-a"]
	var e map[string]any
	f.get(t, "/entities/by-uid/"+uid).mustStatus(t, http.StatusOK).decode(t, &e)
	if refOf(e) != "group:default/team-a" {
		t.Errorf("got %s", refOf(e))
	}
	name, msg := f.get(t, "/entities/by-uid/nope").mustStatus(t, http.StatusNotFound).errorOf(t)
	if name != "NotFoundError" || msg != "No entity with uid nope" {
		t.Errorf("got %s %q", name, msg)
	}

	r := f.call(t, http.MethodDelete, "/entities/by-uid/"+uid, "").mustStatus(t, http.StatusNoContent)
	if len(r.body) != 0 {
		t.Errorf("body %q", r.body)
	}
	call := f.writer.lastCall(t)
	if call.Method != "DeleteEntityByUID" || call.Actor != DefaultActor || !slices.Equal(call.Args, []string{uid}) {
		t.Errorf("writer call %+v", call)
	}
}

func TestEntitiesByRefs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	refs := `["component:default/checkout", "component:default/nope", "Group:Team-A", "api:payments-api"]`
	tests := []struct {
		name  string
		query string
		body  string
		want  string
	}{
		{"same order with null for missing", "", `{"entityRefs":` + refs + `,"fields":["metadata.name"]}`,
			`{"items":[{"metadata":{"name":"checkout"}},null,{"metadata":{"name":"team-a"}},{"metadata":{"name":"payments-api"}}]}`},
		{"fields as a query parameter", "?fields=kind", `{"entityRefs":` + refs + `}`,
			`{"items":[{"kind":"Component"},null,{"kind":"Group"},{"kind":"API"}]}`},
		{"filter leaves null for entities that do not match", "?fields=metadata.name&filter=kind=group&filter=spec.type=openapi", `{"entityRefs":` + refs + `}`,
			`{"items":[null,null,{"metadata":{"name":"team-a"}},{"metadata":{"name":"payments-api"}}]}`},
		{"no refs", "", `{"entityRefs":[]}`, `{"items":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := f.call(t, http.MethodPost, "/entities/by-refs"+tt.query, tt.body).mustStatus(t, http.StatusOK)
			jsonEqual(t, r.body, tt.want)
		})
	}

	bad := []struct {
		name, body, wantMsg string
	}{
		{"ref without kind", `{"entityRefs":["component:checkout","checkout"]}`, `entityRefs[1]: entity reference "checkout" had missing or empty kind`},
		{"missing entityRefs", `{"fields":["kind"]}`, "entityRefs is required"},
		{"entityRefs not an array", `{"entityRefs":"component:checkout"}`, "entityRefs must be an array"},
		{"malformed JSON", `{"entityRefs":["a"`, "Malformed JSON"},
		{"not an object", `["component:checkout"]`, "must be a JSON object"},
		{"predicate query", `{"entityRefs":[],"query":{"kind":"component"}}`, "predicate queries"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			name, msg := f.call(t, http.MethodPost, "/entities/by-refs", tt.body).mustStatus(t, http.StatusBadRequest).errorOf(t)
			if name != "InputError" || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("got %s %q, want InputError containing %q", name, msg, tt.wantMsg)
			}
		})
	}
}

func TestEntityFacets(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name, query, want string
	}{
		{"kind", "facet=kind", `{"facets":{"kind":[{"value":"API","count":1},{"value":"Component","count":28},
			{"value":"Group","count":2},{"value":"Location","count":1},{"value":"System","count":1},{"value":"User","count":1}]}}`},
		{"filtered", "facet=spec.type&filter=kind=component", `{"facets":{"spec.type":[
			{"value":"library","count":25},{"value":"service","count":2},{"value":"website","count":1}]}}`},
		{"several facets keep their spelling", "facet=metadata.tags&facet=Spec.Lifecycle&filter=kind=component,metadata.tags", `{"facets":{
			"metadata.tags":[{"value":"go","count":1},{"value":"java","count":1},{"value":"javascript","count":1},{"value":"payments","count":1}],
			"Spec.Lifecycle":[{"value":"experimental","count":1},{"value":"production","count":2}]}}`},
		{"relations", "facet=relations.ownedBy", `{"facets":{"relations.ownedBy":[
			{"value":"group:default/team-a","count":4},{"value":"group:default/team-b","count":26}]}}`},
		{"unknown facet", "facet=spec.nothing", `{"facets":{"spec.nothing":[]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			jsonEqual(t, f.get(t, "/entity-facets?"+tt.query).mustStatus(t, http.StatusOK).body, tt.want)
		})
	}
}

func TestFilterLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var stmts []string
	for i := 0; i <= maxFilterValues; i++ {
		stmts = append(stmts, fmt.Sprintf("metadata.name=n%d", i))
	}
	name, msg := f.get(t, "/entities?filter="+url.QueryEscape(strings.Join(stmts, ","))).mustStatus(t, http.StatusBadRequest).errorOf(t)
	if name != "InputError" || !strings.Contains(msg, "limit") {
		t.Errorf("got %s %q", name, msg)
	}
}

// TestEntitiesByRefsManyFilters checks that a long filter and many refs stay
// within the store's statement limits.
func TestEntitiesByRefsManyFilters(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	q := url.Values{}
	for i := 0; i < 150; i++ {
		q.Add("filter", fmt.Sprintf("kind=group,metadata.name=team-%d", i))
	}
	q.Add("filter", "kind=group,metadata.name=team-a")
	refs := []string{`"group:team-a"`}
	for i := 0; i < 299; i++ {
		refs = append(refs, fmt.Sprintf(`"component:svc-%d"`, i))
	}
	var out struct {
		Items []map[string]any `json:"items"`
	}
	f.call(t, http.MethodPost, "/entities/by-refs?fields=metadata.name&"+q.Encode(), `{"entityRefs":[`+strings.Join(refs, ",")+`]}`).
		mustStatus(t, http.StatusOK).decode(t, &out)
	if len(out.Items) != 300 || out.Items[0] == nil || namesOf(out.Items[:1])[0] != "team-a" {
		t.Fatalf("got %d items, first %v", len(out.Items), out.Items[0])
	}
	for i, e := range out.Items[1:] {
		if e != nil {
			t.Errorf("item %d: %v", i+1, e)
		}
	}
}
