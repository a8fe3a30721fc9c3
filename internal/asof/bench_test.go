package asof_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/asof"
	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/history/histtest"
	"backlot.dev/backlot/projections/history/pghist"
	"backlot.dev/backlot/projections/history/sqlitehist"
)

// BenchmarkAsOf measures asOf reads of the catalog: N entities (env
// BACKLOT_BENCH_ENTITIES, default 20,000) of ten versions each. Every
// "first" read is at an instant not read before. "direct" reads are answered
// by the history itself: a filtered page of 20 with its total, the first page
// of the whole catalog with its total, a page ordered by name, three facets,
// an entity by ref. "snapshot" is the same filtered page through a read model
// built for the instant (the path a history without catalog rows takes), and
// "snapshot/cached" that page again from the built read model. The catalog
// rows of the history are built (KeepCatalogRows, logged) before the reads.
func BenchmarkAsOf(b *testing.B) {
	hist, err := sqlitehist.Open(filepath.Join(b.TempDir(), "history.db"), sqlitehist.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer hist.Close()
	benchAsOf(b, hist)
}

// BenchmarkAsOfPostgres is BenchmarkAsOf on the PostgreSQL history, in a
// fresh database of the test server. cpu-ms/op counts this process alone,
// not the PostgreSQL backends.
func BenchmarkAsOfPostgres(b *testing.B) {
	hist, err := pghist.Open(context.Background(), pgtest.URL(b), pghist.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer hist.Close()
	benchAsOf(b, hist)
}

// benchAsOf measures asOf reads on hist, an empty history.
func benchAsOf(b *testing.B, hist directHistory) {
	n := 20000
	if v, err := strconv.Atoi(os.Getenv("BACKLOT_BENCH_ENTITIES")); err == nil && v > 0 {
		n = v
	}
	dir := b.TempDir()
	evs := histtest.BenchEvents(b, n, 10)
	start := time.Now()
	histtest.ApplyInBatches(b, hist, evs, 5000)
	b.Logf("history of %d events loaded in %s", len(evs), time.Since(start).Round(time.Millisecond))
	start, cpu := time.Now(), processCPU()
	if err := hist.KeepCatalogRows(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Logf("its catalog rows built in %s (%s of CPU)", time.Since(start).Round(time.Millisecond), (processCPU() - cpu).Round(time.Millisecond))
	direct, err := asof.New(hist, filepath.Join(dir, "direct"))
	if err != nil {
		b.Fatal(err)
	}
	defer direct.Close()
	snaps, err := asof.New(hist, filepath.Join(dir, "snap"), asof.SnapshotsOnly())
	if err != nil {
		b.Fatal(err)
	}
	defer snaps.Close()
	ctx := context.Background()
	owner := catalogstore.Filter{{{Key: "spec.owner", Values: []string{"team-3"}}}}
	filtered := func(r catalogstore.Reader) error {
		p, err := r.Query(ctx, catalogstore.PageQuery{Filter: owner, Limit: 20, CountTotal: true})
		if err == nil && (p.TotalItems == 0 || len(p.Items) != 20) {
			err = fmt.Errorf("%d items of %d", len(p.Items), p.TotalItems)
		}
		return err
	}
	reads := []struct {
		name string
		read func(catalogstore.Reader) error
	}{
		{"filtered", filtered},
		{"list", func(r catalogstore.Reader) error {
			p, err := r.Query(ctx, catalogstore.PageQuery{Limit: 20, CountTotal: true})
			if err == nil && p.TotalItems == 0 {
				err = fmt.Errorf("no items")
			}
			return err
		}},
		{"byname", func(r catalogstore.Reader) error {
			_, err := r.Query(ctx, catalogstore.PageQuery{Filter: owner, Order: []catalogstore.Order{{Field: "metadata.name", Desc: true}}, Limit: 20})
			return err
		}},
		{"facets", func(r catalogstore.Reader) error {
			_, err := r.Facets(ctx, []string{"spec.owner", "spec.system", "kind"}, nil)
			return err
		}},
		{"byref", func(r catalogstore.Reader) error {
			vs, err := r.ByKeys(ctx, []string{"component:default/service-7"})
			if err == nil && vs[0] == nil {
				err = fmt.Errorf("not found")
			}
			return err
		}},
	}
	at := int64(len(evs) / 2)
	for _, rd := range reads {
		b.Run("direct/first/"+rd.name, func(b *testing.B) {
			defer reportCPU(b, processCPU())
			for b.Loop() {
				at++ // a new instant each time
				r, err := direct.At(ctx, history.AtPositions(event.Positions{0: at}))
				if err != nil {
					b.Fatal(err)
				}
				if err := rd.read(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("direct/first/filtered-by-time", func(b *testing.B) {
		defer reportCPU(b, processCPU())
		for b.Loop() {
			at++
			r, err := direct.At(ctx, history.AtTime(histtest.Epoch.Add(time.Duration(at)*time.Millisecond)))
			if err != nil {
				b.Fatal(err)
			}
			if err := filtered(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("snapshot/first", func(b *testing.B) {
		defer reportCPU(b, processCPU())
		for b.Loop() {
			at++
			r, err := snaps.At(ctx, history.AtPositions(event.Positions{0: at}))
			if err != nil {
				b.Fatal(err)
			}
			if err := filtered(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("snapshot/cached", func(b *testing.B) {
		defer reportCPU(b, processCPU())
		for b.Loop() {
			r, err := snaps.At(ctx, history.AtPositions(event.Positions{0: at}))
			if err != nil {
				b.Fatal(err)
			}
			if err := filtered(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// processCPU returns the CPU time (user and system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per read since from (cpu-ms/op), which other
// work on a shared machine disturbs far less than the wall time.
func reportCPU(b *testing.B, from time.Duration) {
	b.ReportMetric(float64((processCPU()-from).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}
