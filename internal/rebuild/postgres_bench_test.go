package rebuild_test

import (
	"os"
	"strconv"
	"syscall"
	"testing"

	"backlot.dev/backlot/internal/bench/gen"
	"backlot.dev/backlot/internal/eventlog/kafkalog"
	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
	"backlot.dev/backlot/internal/rebuild"
	"backlot.dev/backlot/internal/testenv/pgtest"
)

// BenchmarkPostgresCatalog measures a replay of a 12-partition topic of
// components (20,000, or BACKLOT_BENCH_ENTITIES) into a fresh PostgreSQL
// catalog by 1, 2 and 4 projectors in one consumer group; it reports events/s
// and this process's CPU time per event (the projectors and, with the
// in-process broker, Kafka's side; PostgreSQL's backends are other processes).
func BenchmarkPostgresCatalog(b *testing.B) {
	n := 20000
	if v, err := strconv.Atoi(os.Getenv("BACKLOT_BENCH_ENTITIES")); err == nil && v > 0 {
		n = v
	}
	brokers := kafkatest.Brokers(b)
	prefix := kafkatest.TopicPrefix(b)
	ctx := b.Context()
	log, err := kafkalog.Open(ctx, kafkalog.Options{Brokers: brokers, TopicPrefix: prefix, Partitions: 12, ReplicationFactor: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer log.Close()
	evs, err := gen.ComponentUpserts(1, n, 1)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < len(evs); i += 2000 {
		if _, err := log.Append(ctx, evs[i:min(i+2000, len(evs))]); err != nil {
			b.Fatal(err)
		}
	}
	for _, members := range []int{1, 2, 4} {
		b.Run("projectors="+strconv.Itoa(members), func(b *testing.B) {
			var events int64
			var cpu int64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				url := pgtest.URL(b)
				before := processCPU()
				b.StartTimer()
				stats, err := rebuild.PostgresCatalog(ctx, rebuild.PostgresOptions{Brokers: brokers, TopicPrefix: prefix, PostgresURL: url,
					Group: prefix + "bench" + strconv.Itoa(members) + "-" + strconv.Itoa(i), Members: members})
				if err != nil {
					b.Fatal(err)
				}
				cpu += processCPU() - before
				events += stats.Events
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(cpu)/float64(events), "cpu-µs/event")
		})
	}
}

// processCPU returns this process's user and system CPU time in µs.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano()/1e3 + ru.Stime.Nano()/1e3
}
