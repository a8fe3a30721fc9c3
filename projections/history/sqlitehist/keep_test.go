package sqlitehist

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"backlot.dev/backlot/projections/history/histtest"
)

// dumpCatalogRows returns every catalog row of s in primary-key order.
func dumpCatalogRows(t *testing.T, s *Store) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT ent, key, value, from_position, to_position, from_time, to_time, original FROM history_search ORDER BY ent, key, value, from_position`,
		`SELECT ent, ltype, target, from_position, to_position, from_time, to_time, type, target_ref, reverse, lreverse FROM history_relations ORDER BY ent, ltype, target, from_position`,
	} {
		rows, err := s.read.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		n := 0
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&b, "%v|", v)
			}
			b.WriteByte('\n')
			n++
		}
		rows.Close()
		if n == 0 {
			t.Fatalf("no rows: %s", q)
		}
	}
	return b.String()
}

// TestCatalogRowsBuiltEqualKept: the catalog rows built in bulk from the
// stored versions (KeepCatalogRows after the history was written) are the
// rows Apply keeps batch by batch from the first event, whatever the batches.
func TestCatalogRowsBuiltEqualKept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	evs := histtest.Generate(t, 3, 400)
	kept, err := Open(filepath.Join(t.TempDir(), "kept.db"), Options{KeepCatalogRows: true})
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Close()
	histtest.ApplyInBatches(t, kept, evs, 13)
	built, err := Open(filepath.Join(t.TempDir(), "built.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer built.Close()
	histtest.ApplyInBatches(t, built, evs, 101)
	if built.kept.Load() {
		t.Fatal("a store opened without KeepCatalogRows keeps the rows before it is asked")
	}
	if err := built.KeepCatalogRows(ctx); err != nil {
		t.Fatal(err)
	}
	want, got := dumpCatalogRows(t, kept), dumpCatalogRows(t, built)
	if got != want {
		t.Fatalf("built rows differ from kept ones:\n got %s\nwant %s", got, want)
	}
	// Kept one at a time as well.
	one, err := Open(filepath.Join(t.TempDir(), "one.db"), Options{KeepCatalogRows: true})
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	histtest.ApplyInBatches(t, one, evs, 1)
	if got := dumpCatalogRows(t, one); got != want {
		t.Fatal("rows kept one event at a time differ from those kept in batches of 13")
	}
}
