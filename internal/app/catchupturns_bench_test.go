package app

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/projector"
)

// endlessLog is a log of partitions whose backlog never ends: a read
// returns limit empty events after any position.
type endlessLog struct{ parts int32 }

func (l endlessLog) Append(context.Context, []event.Envelope) (int64, error) { return 0, nil }

func (l endlessLog) Partitions(context.Context) ([]int32, error) {
	out := make([]int32, l.parts)
	for i := range out {
		out[i] = int32(i)
	}
	return out, nil
}

func (l endlessLog) ReadPartition(_ context.Context, p int32, after int64, limit int) ([]event.Envelope, error) {
	evs := make([]event.Envelope, limit)
	for i := range evs {
		evs[i] = event.Envelope{Partition: p, Position: after + int64(i) + 1}
	}
	return evs, nil
}

func (l endlessLog) Heads(context.Context) (event.Positions, error) {
	heads := event.Positions{}
	for p := range l.parts {
		heads[p] = 1 << 60
	}
	return heads, nil
}

func (l endlessLog) WaitPartition(ctx context.Context, _ int32, after int64) (int64, error) {
	<-ctx.Done()
	return after, ctx.Err()
}

func (l endlessLog) Close() error { return nil }

// spin burns d of CPU on the calling goroutine.
func spin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

// foldingTarget burns perEvent of CPU per event applied, as a history's or
// badges' fold decodes and folds each, and counts the events.
type foldingTarget struct {
	perEvent time.Duration
	folded   *atomic.Int64
	keptPositions
}

func (f *foldingTarget) Apply(_ context.Context, evs []event.Envelope) error {
	spin(time.Duration(len(evs)) * f.perEvent)
	f.folded.Add(int64(len(evs)))
	f.applied(evs)
	return nil
}

// BenchmarkReadsDuringCatchUp measures a read's latency (p50 and p95, in ms)
// while the history's and the badges' projectors of 12 partitions catch up
// on an endless backlog through catalogFirst's gate in this process (both
// share GOMAXPROCS), and the catch-up's rate meanwhile (events/s). A read is
// four steps of 0.5 ms of CPU, each after a 0.2 ms wait, as a request's
// round trips to PostgreSQL; a folded event costs 50 µs of CPU, in batches
// of 1,000 events. "four at once" is serve's turns before catchUpTurns gave
// way to reads (four batches at once, whatever the reads); "gives way" is
// serve's turns now; "no catch-up" is the reads alone.
func BenchmarkReadsDuringCatchUp(b *testing.B) {
	for _, c := range []struct {
		name  string
		turns func(*readLoad) *catchUpTurns
	}{
		{"no catch-up", nil},
		{"four at once", func(*readLoad) *catchUpTurns { return &catchUpTurns{most: serveCatchUpBatches} }},
		{"gives way", func(r *readLoad) *catchUpTurns { return newServeCatchUpTurns(serveCatchUpBatches, r) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			log := endlessLog{parts: 12}
			catalog := projector.New(log, newGatedTarget(), projector.Options{})
			reads := newReadLoad()
			var folded atomic.Int64
			var wg sync.WaitGroup
			if c.turns != nil {
				first := &catalogFirst{log: log, catalog: catalog, behind: 1 << 62, maxWait: time.Minute, turns: c.turns(reads)}
				for range 2 { // the history and the badges
					p := projector.New(log, &foldingTarget{perEvent: 50 * time.Microsecond, folded: &folded},
						projector.Options{BatchSize: serveHeldBackBatch, Gate: first.gate()})
					wg.Go(func() { _ = p.Run(ctx) })
				}
				time.Sleep(100 * time.Millisecond) // the catch-up under way
			}
			lat := make([]float64, 0, b.N)
			start, before := time.Now(), folded.Load()
			b.ResetTimer()
			for range b.N {
				t := time.Now()
				end := reads.begin()
				for range 4 {
					time.Sleep(200 * time.Microsecond)
					spin(500 * time.Microsecond)
				}
				end()
				lat = append(lat, float64(time.Since(t).Microseconds())/1000)
			}
			b.StopTimer()
			rate := float64(folded.Load()-before) / time.Since(start).Seconds()
			cancel()
			wg.Wait()
			sort.Float64s(lat)
			b.ReportMetric(lat[len(lat)/2], "p50-ms")
			b.ReportMetric(lat[min(len(lat)-1, len(lat)*95/100)], "p95-ms")
			b.ReportMetric(rate, "caught-up-events/s")
		})
	}
}
