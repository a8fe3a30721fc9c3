package pgcatalog_test

import (
	"context"
	"testing"

	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// Sizes of the capped count test: the cap (the lag cache's exact count) and
// the most rows a capped count may read, once the tables are vacuumed and
// before. A count of a kind's matches that stops at the cap reads a few rows
// per match: the kind's rows until it has countCap+1 matches (a third of the
// components match a value) and the search rows of those it probes or
// merges. Before the first vacuum the planner prices every index read as a
// heap read too, and hashes the kind's rows from its first eid on: at most
// the components and APIs (10,000), never the 12,000 resources before them.
// Counting from the start of a value's search rows reads every resource and
// API that has it first (14,500 to 36,000 rows).
const (
	countCap               = 500
	countMaxRead           = 4000
	countMaxReadUnvacuumed = 12000
)

// A capped count of the matches of a filter that names its kinds reads rows
// in proportion to the cap, however the kinds lie in the catalog's creation
// order: the matches' eids, and those of the search rows they are looked up
// in, keep to the kinds' span. PostgreSQL merged a value's search rows with
// the kind's eids from the start of both, and read every resource and API
// with that value, folded before the components, to find the components'
// (at 1,000,000 entities, about 150,000 index rows for 10,001 matches).
func TestACappedCountReadsInProportionToTheCap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := pgcatalog.Open(ctx, pgtest.URL(t), pgcatalog.Options{Lag: catalogstore.LagOptions{ExactUpTo: countCap}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
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
	// storetest's component i is owned by team-(i%40); every resource and API
	// by team-0.
	// A count under the cap reads to the end of what it counts: merged with
	// the kind's eids, the value's search rows (team-0 owns every resource
	// and API but one component in 40) may take every component to find
	// them, but no rows of the kinds before.
	underCap := true
	cases := []struct {
		name     string
		f        catalogstore.Filter
		match    func(r skewRow) bool
		underCap bool
	}{
		{"a kind and a value other kinds share", catalogstore.Filter{{cond("kind", "Component"), cond("spec.lifecycle", "production")}},
			func(r skewRow) bool { return r.kind == "component" && r.lifecycle == "production" }, false},
		{"a kind and two values", catalogstore.Filter{{cond("kind", "component"), cond("spec.type", "service"), cond("spec.lifecycle", "production")}},
			func(r skewRow) bool {
				return r.kind == "component" && r.typ == "service" && r.lifecycle == "production"
			}, false},
		{"a kind", catalogstore.Filter{{cond("kind", "component")}},
			func(r skewRow) bool { return r.kind == "component" }, false},
		{"a kind and an owner of fewer than the cap", catalogstore.Filter{{cond("kind", "component"), cond("spec.owner", "team-0")}},
			func(r skewRow) bool { return r.kind == "component" && r.owner == "team-0" }, underCap},
		{"two kinds and a value", catalogstore.Filter{{cond("kind", "component", "api"), cond("spec.lifecycle", "production")}},
			func(r skewRow) bool { return (r.kind == "component" || r.kind == "api") && r.lifecycle == "production" }, false},
	}
	for _, state := range []struct {
		name, prepare string
		maxRead       float64
	}{
		{"analyzed, not vacuumed", ``, countMaxReadUnvacuumed},
		{"vacuumed", `VACUUM (ANALYZE) entities, search, search_keys, relations`, countMaxRead},
	} {
		if state.prepare != "" {
			pgtest.Vacuum(t, s.Pool(), state.prepare, "entities", "search")
		}
		for _, c := range cases {
			t.Run(state.name+"/"+c.name, func(t *testing.T) {
				want := 0
				for _, r := range rows {
					if c.match(r) {
						want++
					}
				}
				want = min(want, countCap+1)
				stmt, args, err := pgcatalog.CountStatement(ctx, s, catalogstore.PageQuery{Filter: c.f, CountTotal: true})
				if err != nil {
					t.Fatal(err)
				}
				var got int
				if err := s.Pool().QueryRow(ctx, stmt, args...).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Fatalf("capped count %d, want %d", got, want)
				}
				read, scans := statementReads(t, s, stmt, args)
				t.Logf("%.0f rows read: %v", read, scans)
				maxRead := state.maxRead
				if c.underCap {
					maxRead = countMaxReadUnvacuumed
				}
				if read > maxRead {
					t.Errorf("the count read %.0f rows of entities and search (at most %.0f expected of a catalog of %d):\n%v\n%s",
						read, maxRead, len(rows), scans, pgtest.ExplainText(t, s.Pool(), stmt, args))
				}
			})
		}
	}
}
