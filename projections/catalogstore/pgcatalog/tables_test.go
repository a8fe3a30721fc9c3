package pgcatalog_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// tableQueries list every table of the read model in a stable order.
var tableQueries = []string{
	`SELECT key, eid, ref, uid, kind, namespace, name, hash, location_id, managed_by, body, updated_pos, updated_partition FROM entities ORDER BY key`,
	`SELECT origin, type, ltype, target, target_ref, reverse, lreverse FROM relations ORDER BY origin, type, target, reverse`,
	`SELECT s.eid, k.key, s.value, s.original FROM search s JOIN search_keys k ON k.id = s.kid ORDER BY s.eid, k.key, s.value`,
	`SELECT id, type, target, entity_key, created FROM locations ORDER BY id`,
	`SELECT location_id, seq, body, entity_key FROM location_errors ORDER BY location_id, seq`,
	`SELECT name, partition, position FROM positions ORDER BY name, partition`,
}

// dumpTables renders every row of every table of s.
func dumpTables(t *testing.T, s *pgcatalog.Store) string {
	t.Helper()
	var b strings.Builder
	for _, q := range tableQueries {
		fmt.Fprintf(&b, "## %s\n", q)
		rows, err := s.Pool().Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				if p, ok := v.(*string); ok && p != nil {
					v = *p
				}
				if i > 0 {
					b.WriteByte('\t')
				}
				fmt.Fprintf(&b, "%v", v)
			}
			b.WriteByte('\n')
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// TestPostgresTablesDoNotDependOnBatches checks the PostgreSQL tables
// themselves, not only the answers: a history of registrations, edits,
// removals and errors applied in one batch, in batches of 7 and one event at
// a time writes the same rows, and applying it again writes nothing.
func TestPostgresTablesDoNotDependOnBatches(t *testing.T) {
	t.Parallel()
	evs := storetest.History(t, 150, 3)
	all, sevens, ones := openStore(t), openStore(t), openStore(t)
	storetest.ApplyInBatches(t, all, evs, len(evs))
	storetest.ApplyInBatches(t, sevens, evs, 7)
	storetest.ApplyInBatches(t, ones, evs, 1)
	want := dumpTables(t, all)
	// The first section, up to the next header, is the entities' header and rows.
	entities := strings.SplitN(want, "\n## ", 2)[0]
	if n := strings.Count(entities, "\n"); n < 100 {
		t.Fatalf("the entities table holds %d rows, want 100 or more", n)
	}
	if got := dumpTables(t, sevens); got != want {
		t.Fatal("the PostgreSQL tables depend on batch boundaries")
	}
	if got := dumpTables(t, ones); got != want {
		t.Fatal("the PostgreSQL tables of one batch differ from those of one event at a time")
	}
	storetest.ApplyInBatches(t, all, evs, 13)
	if dumpTables(t, all) != want {
		t.Fatal("applying a batch twice changed the PostgreSQL tables")
	}
}
