package pgcatalog_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// skewedAPIs is how many APIs follow the skewed catalog's resources, before
// its components.
const skewedAPIs = 2000

// skewRow is what the test knows of an entity of the skewed catalog of
// several kinds, to compute the pages it expects.
type skewRow struct {
	key, name, kind, typ, lifecycle, owner string
	pos                                    int64
}

// skewedKindsCatalog is the rows of the catalog TestAPageOfSeveralKinds
// folds: skewOthers resources, skewedAPIs APIs named service-i-api, then
// skewComponents components (storetest's: service-i, a production service
// when i%3 == 0), so by name APIs and components interleave.
func skewedKindsCatalog() []skewRow {
	var rows []skewRow
	for i := range skewOthers {
		rows = append(rows, skewRow{fmt.Sprintf("resource:default/aaa-resource-%d", i), fmt.Sprintf("aaa-resource-%d", i), "resource", "service", "production", "team-0", int64(i) + 1})
	}
	for i := range skewComponents {
		name := fmt.Sprintf("service-%d", i)
		rows = append(rows, skewRow{"component:default/" + name, name, "component",
			[]string{"service", "website", "library"}[i%3], []string{"production", "experimental", "deprecated"}[i%3], fmt.Sprintf("team-%d", i%40), int64(skewOthers+skewedAPIs+i) + 1})
	}
	for i := range skewedAPIs {
		name := fmt.Sprintf("service-%d-api", i)
		rows = append(rows, skewRow{"api:default/" + name, name, "api", "service", "production", "team-0", int64(skewOthers+i) + 1})
	}
	return rows
}

// A page whose filter names several kinds, in one condition or one per
// conjunction, reads each kind's first rows only, however the kinds lie in
// the catalog's creation order and names. With one condition on several kinds
// the planner had no index that serves the page's order but those that walk
// every kind (the primary key, names), and read the 12,000 resources to
// find the components after them.
func TestAPageOfSeveralKindsReadsOnlyTheirFirstRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	if err := s.BeginBulk(ctx); err != nil {
		t.Fatal(err)
	}
	storetest.ApplyInBatches(t, s, skewedResources(t, skewOthers), 2000)
	storetest.ApplyInBatches(t, s, skewedOfKind(t, "API", "service-%d-api", skewOthers, skewedAPIs), 2000)
	storetest.ApplyInBatches(t, s, storetest.Components(t, skewOthers+skewedAPIs, skewComponents), 2000)
	if err := s.EndBulk(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `ANALYZE entities, search, search_keys, relations`); err != nil {
		t.Fatal(err)
	}
	rows := skewedKindsCatalog()
	cond := func(key string, vals ...string) catalogstore.Condition {
		return catalogstore.Condition{Key: key, Values: vals}
	}
	production := func(r skewRow) bool {
		return (r.kind == "component" || r.kind == "api") && r.lifecycle == "production"
	}
	severalKinds := catalogstore.Filter{{cond("kind", "Component", "API"), cond("spec.lifecycle", "production")}}
	apisOrServices := func(r skewRow) bool {
		return r.kind == "api" || (r.kind == "component" && r.typ == "service" && r.lifecycle == "production")
	}
	oneConjunctionEach := catalogstore.Filter{{cond("kind", "api")}, {cond("kind", "component"), cond("spec.type", "service"), cond("spec.lifecycle", "production")}}
	byPos := func(a, b skewRow) int { return cmp.Compare(a.pos, b.pos) }
	byName := func(a, b skewRow) int { return cmp.Or(strings.Compare(a.name, b.name), strings.Compare(a.key, b.key)) }
	byNameDesc := func(a, b skewRow) int { return -byName(a, b) }
	// expect returns the keys of the rows matching match in the order cmpf,
	// after skip of them, at most n.
	expect := func(match func(skewRow) bool, cmpf func(a, b skewRow) int, skip, n int) []string {
		var m []skewRow
		for _, r := range rows {
			if match(r) {
				m = append(m, r)
			}
		}
		slices.SortFunc(m, cmpf)
		var out []string
		for _, r := range m[min(skip, len(m)):min(skip+n, len(m))] {
			out = append(out, r.key)
		}
		return out
	}
	// The APIs, then the production services, in creation order.
	services := expect(apisOrServices, byPos, 0, len(rows))
	firstService := slices.IndexFunc(services, func(k string) bool { return strings.HasPrefix(k, "component:") })
	tenthLast := services[firstService-10]
	posOf := func(key string) int64 {
		i := slices.IndexFunc(rows, func(r skewRow) bool { return r.key == key })
		return rows[i].pos
	}
	cases := []pageCase{
		{"several kinds in creation order", catalogstore.PageQuery{Limit: 50, Filter: severalKinds},
			expect(production, byPos, 0, 50)},
		{"several kinds by name", catalogstore.PageQuery{Limit: 20, Filter: severalKinds, Order: []catalogstore.Order{{Field: "metadata.name"}}},
			expect(production, byName, 0, 20)},
		{"several kinds by name, descending", catalogstore.PageQuery{Limit: 20, Filter: severalKinds, Order: []catalogstore.Order{{Field: "metadata.name", Desc: true}}},
			expect(production, byNameDesc, 0, 20)},
		{"several kinds by name, with an offset", catalogstore.PageQuery{Limit: 20, Offset: 30, Filter: severalKinds, Order: []catalogstore.Order{{Field: "metadata.name"}}},
			expect(production, byName, 30, 20)},
		{"a kind in each conjunction, the next page", catalogstore.PageQuery{Limit: 50, Filter: oneConjunctionEach,
			After: &catalogstore.Keyset{Values: []string{fmt.Sprint(posOf(tenthLast))}, Key: tenthLast}},
			services[firstService-9 : firstService+41]},
		{"a kind in each conjunction, the previous page", catalogstore.PageQuery{Limit: 50, Filter: oneConjunctionEach,
			Before: &catalogstore.Keyset{Values: []string{fmt.Sprint(posOf(services[firstService+5]))}, Key: services[firstService+5]}},
			services[firstService-45 : firstService+5]},
		{"a kind in each conjunction by name", catalogstore.PageQuery{Limit: 20, Filter: oneConjunctionEach, Order: []catalogstore.Order{{Field: "metadata.name"}}},
			expect(apisOrServices, byName, 0, 20)},
	}
	checkPagesRead(t, s, cases, len(rows))
}
