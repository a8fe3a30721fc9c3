package rebuild_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/bench/gen"
	"backlot.dev/backlot/internal/eventlog/kafkalog"
	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
	"backlot.dev/backlot/internal/rebuild"
	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
	"backlot.dev/backlot/projections/projector"
)

// TestTwoProjectorsFoldWhatOneFolds writes components, edits and removals to a
// six-partition topic, folds it with two projectors in one consumer group,
// stops both part-way and starts two again, and checks that every table holds
// the same rows as one projector's fold of the whole log: nothing lost across
// the restart, nothing applied twice.
func TestTwoProjectorsFoldWhatOneFolds(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	prefix := kafkatest.TopicPrefix(t)
	ctx := t.Context()
	log, err := kafkalog.Open(ctx, kafkalog.Options{Brokers: brokers, TopicPrefix: prefix, Partitions: 6, ReplicationFactor: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	const n = 6000
	v1, err := gen.ComponentUpserts(3, n, 1)
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := gen.ComponentUpserts(3, 800, 2)
	rm, _ := gen.ComponentRemovals(3, 5, 70, 700, 5000)
	all := append(append(v1, v2...), rm...)
	for i := 0; i < len(all); i += 1000 {
		if _, err := log.Append(ctx, all[i:min(i+1000, len(all))]); err != nil {
			t.Fatal(err)
		}
	}
	heads, err := log.Heads(ctx)
	if err != nil {
		t.Fatal(err)
	}

	url := pgtest.URL(t)
	opts := rebuild.PostgresOptions{Brokers: brokers, TopicPrefix: prefix, PostgresURL: url, Group: prefix + "rebuild", Members: 2, BatchSize: 200}
	store, err := pgcatalog.Open(ctx, url, pgcatalog.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	// The first run folds in bulk, without the indexes that take random
	// keys, and stops once a part of the log is folded.
	stopCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() {
		bulk := opts
		bulk.BulkMin = 1
		_, err := rebuild.PostgresCatalog(stopCtx, bulk)
		done <- err
	}()
	var stoppedAt event.Positions
	for stoppedAt == nil {
		pos, err := store.Positions(ctx)
		if err == nil && sumOf(pos) > int64(len(all))/4 {
			stoppedAt = pos
			stop()
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the first run ended before it was stopped: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("a stopped run returned %v, want context.Canceled", err)
	}
	if pos, _ := store.Positions(ctx); pos.Covers(heads) {
		t.Fatalf("the first run had folded everything (%v) before it was stopped: nothing is left to resume", pos)
	}
	if n := indexCount(t, store); n != 0 {
		t.Errorf("the stopped bulk run left %d of the bulk indexes: it did not fold in bulk", n)
	}

	// The second run carries on from the recorded positions.
	stats, err := rebuild.PostgresCatalog(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if pos, _ := store.Positions(ctx); !pos.Covers(heads) {
		t.Fatalf("positions %v after the second run do not cover the heads %v", pos, heads)
	}
	if stats.Events <= 0 || stats.Events >= int64(len(all)) {
		t.Errorf("the second run applied %d events of %d: it should have carried on from the stop, at %v", stats.Events, len(all), stoppedAt)
	}
	got := storetest.PostgresTables(t, store)
	if n := indexCount(t, store); n != len(bulkIndexes) {
		t.Errorf("after the second run %d of the %d bulk indexes exist", n, len(bulkIndexes))
	}

	one, err := pgcatalog.Open(ctx, pgtest.URL(t), pgcatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	if _, err := projector.New(log, one, projector.Options{}).CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if want := storetest.PostgresTables(t, one); got != want {
		t.Fatalf("two projectors with a restart folded other rows than one projector:\n%s", firstDiff(want, got))
	}
	if a, b := mustDump(t, store), mustDump(t, one); a != b {
		t.Fatalf("two projectors answer queries otherwise than one:\n%s", firstDiff(b, a))
	}
	if !strings.Contains(got, "component:default/") {
		t.Fatal("the read model holds no component")
	}
}

// bulkIndexes are the indexes a replay in bulk drops (pgcatalog's bulk.go:
// bulkIndexes, replayIndexes, search's primary key and relations_origin).
var bulkIndexes = []string{"search_key_value", "search_pkey", "relations_origin", "relations_type_target", "relations_target", "entities_kind_name", "entities_name_key",
	"entities_uid", "entities_kind_eid", "entities_namespace_eid", "entities_location"}

// indexCount counts the bulk indexes that exist.
func indexCount(t *testing.T, s *pgcatalog.Store) int {
	t.Helper()
	var n int
	if err := s.Pool().QueryRow(t.Context(), `SELECT count(*) FROM unnest($1::text[]) AS n WHERE to_regclass(quote_ident(n)) IS NOT NULL`, bulkIndexes).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func mustDump(t *testing.T, s *pgcatalog.Store) string {
	t.Helper()
	d, err := storetest.DumpReader(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func sumOf(p event.Positions) int64 {
	var s int64
	for _, v := range p {
		s += v
	}
	return s
}

// firstDiff shows the first line where a and b differ.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < min(len(al), len(bl)); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n want %s\n got  %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d lines", len(al), len(bl))
}
