package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
)

// pgTableQueries list every table of the PostgreSQL catalog read model in a
// stable order, with columns that do not depend on which process folded a
// partition or which ids a search key got.
var pgTableQueries = []string{
	`SELECT key, eid, ref, uid, kind, namespace, name, hash, location_id, managed_by, body, updated_pos, updated_partition FROM entities ORDER BY key`,
	`SELECT origin, type, ltype, target, target_ref, reverse, lreverse FROM relations ORDER BY origin, type, target, reverse`,
	`SELECT s.eid, k.key, s.value, s.original, s.item FROM search s JOIN search_keys k ON k.id = s.kid ORDER BY s.eid, k.key, s.value`,
	`SELECT id, type, target, entity_key, created FROM locations ORDER BY id`,
	`SELECT location_id, seq, body, entity_key FROM location_errors ORDER BY location_id, seq`,
	`SELECT name, partition, position FROM positions ORDER BY name, partition`,
}

// PostgresTables renders every row of every table of the PostgreSQL read
// model s in a stable text form, a line per row (a row applied twice shows
// as a second line: relations have no unique key), so two folds can be
// compared row for row.
func PostgresTables(t testing.TB, s *pgcatalog.Store) string {
	t.Helper()
	var b strings.Builder
	for _, q := range pgTableQueries {
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
