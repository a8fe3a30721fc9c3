package pgcatalog_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// The count of every match, which the first by-query page of a filter over
// many matches waits for, reads no entity's row through the primary key to
// test its kind, even when the statistics predate the kind's entities, as
// right after an ingestion: with the kind's first eid as a bound, the
// planner took it for a short range of the primary key and fetched every
// entity's row from there on. Here the rows lie in eid order, and that
// touches no more blocks than a sequential scan; after an ingestion's
// updates they do not: at 300,000 entities it touched 182,000 blocks of a
// table of 48,600 for 126,000 matches, 2.6 s, and at 1,000,000 the first
// by-query page took 2.8 s, 1.4 s before the bound. Without the bounds
// (wholeCount) this test's count reads the entities sequentially; with
// them, both cases read the entities by the primary key.
func TestAWholeCountReadsNoEntityByItsEid(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := pgcatalog.Open(ctx, pgtest.URL(t), pgcatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	bulk := func(fold func()) {
		if err := s.BeginBulk(ctx); err != nil {
			t.Fatal(err)
		}
		fold()
		if err := s.EndBulk(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Statistics of the resources and APIs only; the components come after.
	bulk(func() {
		storetest.ApplyInBatches(t, s, skewedResources(t, skewOthers), 2000)
		storetest.ApplyInBatches(t, s, skewedOfKind(t, "API", "service-%d-api", skewOthers, skewedAPIs), 2000)
	})
	pgtest.Vacuum(t, s.Pool(), `VACUUM (ANALYZE) entities, search, search_keys, relations`, "entities", "search")
	bulk(func() {
		storetest.ApplyInBatches(t, s, storetest.Components(t, skewOthers+skewedAPIs, skewComponents), 2000)
	})
	rows := skewedKindsCatalog()
	cond := func(key string, vals ...string) catalogstore.Condition {
		return catalogstore.Condition{Key: key, Values: vals}
	}
	cases := []struct {
		name  string
		f     catalogstore.Filter
		match func(r skewRow) bool
	}{
		{"a kind and a value other kinds share", catalogstore.Filter{{cond("kind", "Component"), cond("spec.lifecycle", "production")}},
			func(r skewRow) bool { return r.kind == "component" && r.lifecycle == "production" }},
		{"two kinds and a value", catalogstore.Filter{{cond("kind", "component", "api"), cond("spec.lifecycle", "production")}},
			func(r skewRow) bool { return (r.kind == "component" || r.kind == "api") && r.lifecycle == "production" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := 0
			for _, r := range rows {
				if c.match(r) {
					want++
				}
			}
			stmt, args := pgcatalog.WholeCountStatement(s, catalogstore.PageQuery{Filter: c.f, CountTotal: true})
			var got int
			if err := s.Pool().QueryRow(ctx, stmt, args...).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("count %d, want %d", got, want)
			}
			read, scans := statementReads(t, s, stmt, args)
			t.Logf("%.0f rows read, %.0f blocks of entities touched: %v", read, entityBlocks(t, s, stmt, args), scans)
			for _, sc := range scans {
				if strings.Contains(sc, "on entities entities_pkey") {
					t.Errorf("the count read entities by their eids (%s):\n%s", sc, pgtest.ExplainText(t, s.Pool(), stmt, args))
				}
			}
		})
	}
}

// entityBlocks runs stmt under EXPLAIN (ANALYZE, BUFFERS) and returns the
// blocks its scans of entities touched (shared buffers hit and read): an
// index scan touches the block of each row it fetches, a sequential scan
// each block once.
func entityBlocks(t *testing.T, s *pgcatalog.Store, stmt string, args []any) float64 {
	t.Helper()
	var raw []byte
	if err := s.Pool().QueryRow(context.Background(), `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) `+stmt, args...).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	type node struct {
		Relation string  `json:"Relation Name"`
		Hit      float64 `json:"Shared Hit Blocks"`
		Read     float64 `json:"Shared Read Blocks"`
		Plans    []node  `json:"Plans"`
	}
	var plans []struct {
		Plan node `json:"Plan"`
	}
	if err := json.Unmarshal(raw, &plans); err != nil || len(plans) != 1 {
		t.Fatalf("plan %s: %v", raw, err)
	}
	var sum func(n node) float64
	sum = func(n node) float64 {
		if n.Relation == "entities" {
			// A scan's blocks include those of the index scans under it.
			return n.Hit + n.Read
		}
		var b float64
		for _, c := range n.Plans {
			b += sum(c)
		}
		return b
	}
	return sum(plans[0].Plan)
}
