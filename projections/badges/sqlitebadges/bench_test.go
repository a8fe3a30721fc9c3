package sqlitebadges_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/badges/sqlitebadges"
	"backlot.dev/backlot/projections/storekit/sqlitekit"
)

// foldEvents returns what a full evaluation of n entities under a new
// 20-check policy appends: for each entity its catalog facts and its first
// verdict, at positions from 1, in key order.
func foldEvents(b testing.TB, n int) []event.Envelope {
	return foldEventsInOrder(b, n, nil)
}

// creationOrder is the order of n entities' keys in which the catalog lists
// them without an order (the order they were created in), as the evaluator
// of backlot dev rates them: a shuffle of key order, as the bench's catalog
// names its entities at random.
func creationOrder(n int) []int { return rand.New(rand.NewPCG(1, 2)).Perm(n) }

// foldEventsInOrder is foldEvents with the entities in the order of their
// indexes in order (key order when nil).
func foldEventsInOrder(b testing.TB, n int, order []int) []event.Envelope {
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	evs := make([]event.Envelope, 0, 2*n)
	levels := []string{"bronze", "silver", "gold", "platinum"}
	for j := range n {
		i := j
		if order != nil {
			i = order[j]
		}
		key := fmt.Sprintf("component:default/c-%06d", i)
		facts, err := event.New(event.TypeFactsReported, key, event.FactsReported{Entity: key, Source: "catalog",
			Facts: json.RawMessage(`{"dependsOnDeprecated":false,"deprecatedRefs":[],"descriptorComplete":true,"missingFields":[]}`), ObservedAt: at},
			event.Meta{Actor: "backlot:collector", Time: at})
		if err != nil {
			b.Fatal(err)
		}
		d := event.BadgeChanged{Entity: key, EntityHash: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			Owner: fmt.Sprintf("group:default/team-%d", i%50), Policy: "bench-20", Applies: true, Level: levels[i%4], LevelRank: i%4 + 1, Changed: []string{}}
		for c := range 20 {
			id := fmt.Sprintf("c%02d", c+1)
			d.Checks = append(d.Checks, event.CheckOutcome{ID: id, Level: levels[c/5], Passed: (i+c)%3 != 0})
			d.Changed = append(d.Changed, id)
		}
		badge, err := event.New(event.TypeBadgeAwarded, key, d, event.Meta{Actor: "backlot:policies", Time: at})
		if err != nil {
			b.Fatal(err)
		}
		evs = append(evs, facts, badge)
	}
	for i := range evs {
		evs[i].Position = int64(i + 1)
	}
	return evs
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkApplyFullEvaluation folds what a full evaluation of 5,000
// entities (BACKLOT_BENCH_ENTITIES) appends, in the projector's batches of 2,000 events, into an
// empty store: cpu-us/event is the process's CPU time per event.
// BACKLOT_BENCH_PAGE_CACHE_KIB, when set, shares a page cache buffer of that
// size (sqlitekit.SharePageCache) as backlot dev does, and fills it first
// with the pages of another store: the writer is then under the memory
// pressure dev's is in after a large ingestion, where the other stores'
// caches hold the buffer and a connection can only recycle its own pages
// (the bench's process must open no other SQLite connection before).
func BenchmarkApplyFullEvaluation(b *testing.B) {
	benchmarkApplyFullEvaluation(b, false)
}

// BenchmarkApplyFullEvaluationInCreationOrder is BenchmarkApplyFullEvaluation
// with the verdicts in the order backlot dev's evaluator rates entities
// today, the catalog's creation order (creationOrder), which is random in
// key order: each batch inserts into the verdicts, facts and the changes'
// entity index at random places instead of at their ends.
func BenchmarkApplyFullEvaluationInCreationOrder(b *testing.B) {
	benchmarkApplyFullEvaluation(b, true)
}

func benchmarkApplyFullEvaluation(b *testing.B, shuffled bool) {
	batch := 2000
	if v, err := strconv.Atoi(os.Getenv("BACKLOT_BENCH_BATCH")); err == nil && v > 0 {
		batch = v
	}
	n := 5000
	if v, err := strconv.Atoi(os.Getenv("BACKLOT_BENCH_ENTITIES")); err == nil && v > 0 {
		n = v
	}
	if v, err := strconv.Atoi(os.Getenv("BACKLOT_BENCH_PAGE_CACHE_KIB")); err == nil && v > 0 {
		if err := sqlitekit.SharePageCache(v); err != nil {
			b.Fatal(err)
		}
		hog, err := sqlitebadges.Open(filepath.Join(b.TempDir(), "hog.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer hog.Close()
		for i, evs := 0, foldEvents(b, 2*v); i < len(evs); i += batch {
			if err := hog.Apply(context.Background(), evs[i:min(i+batch, len(evs))]); err != nil {
				b.Fatal(err)
			}
		}
	}
	var order []int
	if shuffled {
		order = creationOrder(n)
	}
	evs := foldEventsInOrder(b, n, order)
	ctx := context.Background()
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		s, err := sqlitebadges.Open(filepath.Join(b.TempDir(), "badges.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		c := cpuTime()
		for i := 0; i < len(evs); i += batch {
			if err := s.Apply(ctx, evs[i:min(i+batch, len(evs))]); err != nil {
				b.Fatal(err)
			}
		}
		cpu += cpuTime() - c
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*len(evs)), "cpu-us/event")
}
