package sqlitebadges_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/badges/sqlitebadges"
)

// BenchmarkEditAfterCatchUp folds what a full evaluation of 30,000 entities
// (BACKLOT_BENCH_ENTITIES) appends, in batches of 2,000, while two readers
// poll verdicts (the evaluator's pages, the API), then folds one-fact edits
// one at a time as readers keep polling: edit-p50-ms and edit-p95-ms are the
// edits' Apply, cpu-us/edit the process's CPU per edit (the readers'
// included). BACKLOT_BENCH_NO_WAL_GUARD=1 leaves the log to SQLite, as the
// store did before its WALGuard.
func BenchmarkEditAfterCatchUp(b *testing.B) {
	n := 30000
	if v := benchN(); v > 0 {
		n = v
	}
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "badges.db")
	s, err := sqlitebadges.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if os.Getenv("BACKLOT_BENCH_NO_WAL_GUARD") == "1" {
		sqlitebadges.LeaveWALToSQLite(s)
	}
	evs := foldEvents(b, n)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for r := range 2 {
		wg.Go(func() {
			keys := make([]string, 50)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				for j := range keys {
					keys[j] = fmt.Sprintf("component:default/c-%06d", (i*50+j+r*500)%n)
				}
				if _, err := s.VerdictsOf(ctx, keys); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	defer func() { close(stop); wg.Wait() }()
	for i := 0; i < len(evs); i += 2000 {
		if err := s.Apply(ctx, evs[i:min(i+2000, len(evs))]); err != nil {
			b.Fatal(err)
		}
	}
	pos := int64(len(evs))
	var took []time.Duration
	var cpu time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		pos++
		key := fmt.Sprintf("component:default/c-%06d", i%n)
		ev, err := event.New(event.TypeFactsReported, key, event.FactsReported{Entity: key, Source: "ci", Facts: []byte(fmt.Sprintf(`{"coverage": %d}`, i))}, event.Meta{})
		if err != nil {
			b.Fatal(err)
		}
		ev.Position = pos
		c, t := cpuTime(), time.Now()
		if err := s.Apply(ctx, []event.Envelope{ev}); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(t))
		cpu += cpuTime() - c
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "edit-p50-ms")
	b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "edit-p95-ms")
	b.ReportMetric(float64(cpu.Microseconds())/float64(len(took)), "cpu-us/edit")
	fi, err := os.Stat(path + "-wal")
	if err == nil {
		b.ReportMetric(float64(fi.Size())/(1<<20), "wal-MB")
	}
}

// benchN is BACKLOT_BENCH_ENTITIES, 0 when unset.
func benchN() int {
	n, _ := strconv.Atoi(os.Getenv("BACKLOT_BENCH_ENTITIES"))
	return n
}
