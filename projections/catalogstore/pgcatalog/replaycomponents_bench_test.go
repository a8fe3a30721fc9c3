package pgcatalog_test

import (
	"context"
	"hash/fnv"
	"os"
	"strconv"
	"sync"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/bench/gen"
	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
)

// BenchmarkReplayComponents measures a replay of the components bench replay
// writes (gen.ComponentUpserts, BACKLOT_BENCH_ENTITIES of them, default
// 100,000), spread over 12 partitions by key and folded 2,000 events of a
// partition at a time, the partitions in turn (with BACKLOT_BENCH_CONCURRENT
// set, side by side, as one projector folds them): BeginReplay, the batches,
// EndBulk. Without Kafka and the projector, it
// reports the CPU time the PostgreSQL backends spent per event in the fold
// and in EndBulk, when the server runs on this machine. With
// BACKLOT_BENCH_SIZES set it logs each table's and index's rows and bytes.
func BenchmarkReplayComponents(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("BACKLOT_BENCH_ENTITIES")); err == nil && v >= 100 {
		n = v
	}
	evs, err := gen.ComponentUpserts(1, n, 1)
	if err != nil {
		b.Fatal(err)
	}
	const parts = 12
	byPart := make([][]event.Envelope, parts)
	for _, e := range evs {
		h := fnv.New32a()
		h.Write([]byte(e.Subject))
		p := int32(h.Sum32() % parts)
		e.Partition = p
		e.Position = int64(len(byPart[p]) + 1)
		byPart[p] = append(byPart[p], e)
	}
	concurrent := os.Getenv("BACKLOT_BENCH_CONCURRENT") != ""
	if v, err := strconv.Atoi(os.Getenv("BACKLOT_BENCH_BULK_FOLDS")); err == nil && v > 0 {
		pgcatalog.SetBulkFolds(v)
	}
	ctx := context.Background()
	var c replayClock
	for i := 0; i < b.N; i++ {
		c.run(b, len(evs), func(s *pgcatalog.Store) {
			if concurrent {
				// Each partition folded by a goroutine of its own, as the
				// projector folds the partitions of a log side by side.
				var wg sync.WaitGroup
				for p := range byPart {
					wg.Go(func() {
						for off := 0; off < len(byPart[p]); off += 2000 {
							if err := s.Apply(ctx, byPart[p][off:min(off+2000, len(byPart[p]))]); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				return
			}
			for off := 0; ; off += 2000 {
				more := false
				for p := range byPart {
					if off < len(byPart[p]) {
						more = true
						if err := s.Apply(ctx, byPart[p][off:min(off+2000, len(byPart[p]))]); err != nil {
							b.Fatal(err)
						}
					}
				}
				if !more {
					return
				}
			}
		})
	}
	c.report(b, len(evs))
}
