package webui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
	"backlot.dev/backlot/projections/history/sqlitehist"
)

// fixture is a portal over real SQLite read models: n synthetic components
// (storetest.Components: owners team-(i%40), systems, tags, relations), the
// group team-0 with the user ada as its member, and an OpenAPI API.
type fixture struct {
	cat  *sqlitecatalog.Store
	hist *sqlitehist.Store
	srv  *Server
}

func newFixture(tb testing.TB, n int, cfg Config) *fixture {
	tb.Helper()
	return newFixtureLag(tb, n, cfg, catalogstore.LagOptions{})
}

// newFixtureLag is newFixture with the catalog's count and facet cache
// configured by lag.
func newFixtureLag(tb testing.TB, n int, cfg Config, lag catalogstore.LagOptions) *fixture {
	tb.Helper()
	dir := tb.TempDir()
	cat, err := sqlitecatalog.Open(filepath.Join(dir, "catalog.db"), sqlitecatalog.Options{Lag: lag})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cat.Close() })
	hist, err := sqlitehist.Open(filepath.Join(dir, "history.db"), sqlitehist.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { hist.Close() })
	evs := storetest.Components(tb, 0, n)
	extra := []map[string]any{
		{"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": map[string]any{"name": "team-0"},
			"spec": map[string]any{"type": "team", "children": []any{}, "members": []any{"ada"}}},
		{"apiVersion": "backstage.io/v1alpha1", "kind": "User", "metadata": map[string]any{"name": "ada"},
			"spec": map[string]any{"memberOf": []any{"team-0"}}},
		{"apiVersion": "backstage.io/v1alpha1", "kind": "API", "metadata": map[string]any{"name": "api-0", "title": "Orders API"},
			"spec": map[string]any{"type": "openapi", "lifecycle": "production", "owner": "team-0",
				"definition": "openapi: 3.0.3\ninfo: {title: Orders, version: 1.0.0}\npaths:\n  /orders/{id}:\n    get:\n      summary: Read an order\n      parameters: [{name: id, in: path, required: true, schema: {type: string}}]\n      responses: {'200': {description: The order, content: {application/json: {schema: {$ref: '#/components/schemas/Order'}}}}}\ncomponents:\n  schemas:\n    Order: {type: object, required: [id], properties: {id: {type: string}, total: {type: number}}}\n"}},
	}
	for i, body := range extra {
		evs = append(evs, upsert(tb, body, int64(n+i+1)))
	}
	for i := 0; i < len(evs); i += 2000 {
		batch := evs[i:min(i+2000, len(evs))]
		if err := cat.Apply(context.Background(), batch); err != nil {
			tb.Fatal(err)
		}
		if err := hist.Apply(context.Background(), batch); err != nil {
			tb.Fatal(err)
		}
	}
	cfg.Catalog, cfg.History = cat, hist
	srv, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return &fixture{cat: cat, hist: hist, srv: srv}
}

// upsert makes the upsert event of body at the position.
func upsert(tb testing.TB, body map[string]any, pos int64) event.Envelope {
	tb.Helper()
	e, err := catalog.NewEntity(body)
	if err != nil {
		tb.Fatal(err)
	}
	raw := e.JSON()
	ev, err := event.New(event.TypeEntityUpserted, e.Ref().Key(), event.EntityUpserted{
		Ref: e.Ref().String(), UID: fmt.Sprintf("uid-x%d", pos), Hash: catalog.HashJSON(raw), Entity: json.RawMessage(raw),
		LocationID: "L1", ManagedBy: "file:/catalog/all.yaml", OriginLocation: "file:/catalog/all.yaml",
	}, event.Meta{Actor: "location:L1"})
	if err != nil {
		tb.Fatal(err)
	}
	ev.Position = pos
	return ev
}

// get serves a GET of path and returns the status and body.
func (f *fixture) get(tb testing.TB, path string, header ...string) (int, string) {
	tb.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}
