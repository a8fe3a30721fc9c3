package pghist

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/catalogstore/storetest"
	"backlot.dev/backlot/projections/history/histtest"
)

// dumpCatalogRows returns every catalog row of s in primary-key order.
func dumpCatalogRows(t *testing.T, s *Store) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT ent, key, value, from_partition, from_position, to_partition, to_position, from_time, to_time, original
			FROM history_search ORDER BY ent, key, value, from_partition, from_position`,
		`SELECT ent, ltype, target, from_partition, from_position, to_partition, to_position, from_time, to_time, type, target_ref, reverse, lreverse
			FROM history_relations ORDER BY ent, ltype, target, from_partition, from_position`,
	} {
		rows, err := s.pool.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
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

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), pgtest.URL(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestCatalogRowsBuiltEqualKept: the catalog rows built in bulk from the
// stored versions of a partitioned log are the rows Apply keeps batch by
// batch from the first event, and a store that never kept them writes none.
func TestCatalogRowsBuiltEqualKept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	evs := storetest.Partition(histtest.Generate(t, 3, 400), 4)
	kept := open(t)
	if err := kept.KeepCatalogRows(ctx); err != nil {
		t.Fatal(err)
	}
	histtest.ApplyInBatches(t, kept, evs, 13)
	built := open(t)
	histtest.ApplyInBatches(t, built, evs, 101)
	var n int
	if err := built.pool.QueryRow(ctx, `SELECT count(*) FROM history_search`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a store never asked keeps %d search rows (%v)", n, err)
	}
	if err := built.KeepCatalogRows(ctx); err != nil {
		t.Fatal(err)
	}
	want, got := dumpCatalogRows(t, kept), dumpCatalogRows(t, built)
	if got != want {
		t.Fatalf("built rows differ from kept ones:\n got %s\nwant %s", got, want)
	}
	one := open(t)
	if err := one.KeepCatalogRows(ctx); err != nil {
		t.Fatal(err)
	}
	histtest.ApplyInBatches(t, one, evs, 1)
	if got := dumpCatalogRows(t, one); got != want {
		t.Fatal("rows kept one event at a time differ from those kept in batches of 13")
	}
	// A build while each partition is applied by its own goroutine: no
	// version misses its rows, none has them twice.
	racing := open(t)
	histtest.ApplyInBatches(t, racing, evs[:150], 50)
	by := map[int32][]event.Envelope{}
	for _, ev := range evs[150:] {
		by[ev.Partition] = append(by[ev.Partition], ev)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(by)+1)
	for _, part := range by {
		wg.Go(func() {
			for i := 0; i < len(part); i += 3 {
				if err := racing.Apply(ctx, part[i:min(i+3, len(part))]); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		if err := racing.KeepCatalogRows(ctx); err != nil {
			errs <- err
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := dumpCatalogRows(t, racing); got != want {
		t.Fatal("rows built while partitions were applied differ from those kept from the start")
	}
}
