package pghist_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/storetest"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/history/pghist"
)

// Sizes of the skewed history: skewAPIs APIs, whose keys sort before every
// component's, then skewComponents components (storetest's).
const (
	skewAPIs       = 12000
	skewComponents = 3000
	// skewMaxRead bounds the rows a page of components may read from the
	// versions and search rows together: a few hundred are needed; a walk of
	// the keys in order reads every API's first.
	skewMaxRead = 2000
)

// apiEvents makes n APIs named aaa-api-i at positions 1 to n.
func apiEvents(t *testing.T, n int) []event.Envelope {
	t.Helper()
	out := make([]event.Envelope, 0, n)
	for i := range n {
		e, err := catalog.NewEntity(map[string]any{
			"apiVersion": "backstage.io/v1alpha1",
			"kind":       "API",
			"metadata":   map[string]any{"name": fmt.Sprintf("aaa-api-%d", i)},
			"spec":       map[string]any{"type": "service", "lifecycle": "production", "owner": "team-0", "definition": "openapi: 3.0.0"},
		})
		if err != nil {
			t.Fatal(err)
		}
		body := e.JSON()
		ev, err := event.New(event.TypeEntityUpserted, e.Ref().Key(), event.EntityUpserted{
			Ref: e.Ref().String(), UID: fmt.Sprintf("api-uid-%d", i), Hash: catalog.HashJSON(body), Entity: json.RawMessage(body),
			LocationID: "L1", ManagedBy: "file:/catalog/apis.yaml", OriginLocation: "file:/catalog/all.yaml",
		}, event.Meta{Actor: "location:L1"})
		if err != nil {
			t.Fatal(err)
		}
		ev.Position = int64(i) + 1
		out = append(out, ev)
	}
	return out
}

// A page of one kind of the catalog at an instant reads that kind's
// versions only, however the kinds lie in key order (the creation order of
// the catalog at an instant). The kind is the start of the key; tested on
// each version's key, it read every API, whose keys sort first, to reach
// the components.
func TestAPageOfOneKindAtAnInstantReadsOnlyThatKind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s, err := pghist.New(ctx, pool, pghist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.KeepCatalogRows(ctx); err != nil {
		t.Fatal(err)
	}
	evs := append(apiEvents(t, skewAPIs), storetest.Components(t, skewAPIs, skewComponents)...)
	for i := 0; i < len(evs); i += 2000 {
		if err := s.Apply(ctx, evs[i:min(i+2000, len(evs))]); err != nil {
			t.Fatal(err)
		}
	}
	pgtest.Vacuum(t, pool, `VACUUM (ANALYZE) history_versions, history_search, history_relations`, "history_versions", "history_search", "history_relations")
	cat, err := s.CatalogAt(ctx, history.AtPositions(event.Positions{0: int64(len(evs))}))
	if err != nil {
		t.Fatal(err)
	}
	cond := func(key string, vals ...string) catalogstore.Condition {
		return catalogstore.Condition{Key: key, Values: vals}
	}
	// Component i is a service when i%3 == 0 (storetest.ComponentBody).
	var all, services []string
	for i := range skewComponents {
		k := fmt.Sprintf("component:default/service-%d", i)
		all = append(all, k)
		if i%3 == 0 {
			services = append(services, k)
		}
	}
	slices.Sort(all)
	slices.Sort(services)
	// With a value, the planner may hash the kind's search rows of that
	// value (the validity of a version at an instant is a condition whose
	// selectivity it guesses): it reads at most the kind's rows, never the
	// other kinds' before them.
	kindsRows := float64(2 * skewComponents)
	cases := []struct {
		name    string
		q       catalogstore.PageQuery
		want    []string
		maxRead float64
	}{
		{"a kind", catalogstore.PageQuery{Limit: 50, Filter: catalogstore.Filter{{cond("kind", "Component")}}}, all[:50], skewMaxRead},
		{"a kind and a type", catalogstore.PageQuery{Limit: 50, Filter: catalogstore.Filter{{cond("kind", "component"), cond("spec.type", "service")}}}, services[:50], kindsRows},
		{"two kinds, components first by key", catalogstore.PageQuery{Limit: 20, Filter: catalogstore.Filter{{cond("kind", "component", "group")}}}, all[:20], skewMaxRead},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			page, err := cat.Query(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range page.Items {
				got = append(got, it.Key)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("page\n got %v\nwant %v", got, c.want)
			}
			stmt, args := pghist.PageStatement(cat, c.q)
			read, scans := pgtest.RowsRead(t, pool, stmt, args, "history_versions", "history_search")
			t.Logf("%.0f rows read: %v", read, scans)
			if read > c.maxRead {
				t.Errorf("the page read %.0f rows of versions and search rows (at most %.0f expected of a history of %d entities):\n%v",
					read, c.maxRead, len(evs), scans)
				t.Log(pgtest.ExplainText(t, pool, stmt, args))
			}
		})
	}
}
