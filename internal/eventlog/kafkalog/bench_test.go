package kafkalog_test

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
	"backlot.dev/backlot/internal/eventlog/logtest"
)

// benchDataSize makes an envelope of about 1 KB in all (data plus attributes), as in
// the embedded log's benchmarks.
const benchDataSize = 800

// envelopeSize is the size of e's attributes and data, roughly its size on the wire.
func envelopeSize(e event.Envelope) int {
	return len(e.ID) + len(e.Source) + len(e.SpecVersion) + len(e.Type) + len(e.Subject) + 35 +
		len(e.DataContentType) + len(e.DataSchema) + len(e.Actor) + len(e.Commit) + len(e.CorrelationID) + len(e.Data)
}

// BenchmarkAppend appends batches of 500 events of about 1 KB about 100 subjects; one
// op is one batch. With 12 partitions a batch is 12 produce requests in parallel.
//
// The fake cluster runs in the same process and its in-memory log copies every write
// (half the CPU time once it holds a few hundred megabytes), so unless
// BACKLOT_TEST_KAFKA_BROKERS names a real cluster, the benchmark runs on a fake one
// that acknowledges writes without storing them, which measures the client.
func BenchmarkAppend(b *testing.B) {
	for _, partitions := range []int{1, 12} {
		b.Run(fmt.Sprintf("partitions=%d", partitions), func(b *testing.B) {
			const batch = 500
			brokers := kafkatest.Brokers
			if !kafkatest.Real() {
				brokers = func(t testing.TB) []string { return kafkatest.StartFake(t, kfake.BlackholeProduce()).ListenAddrs() }
			}
			l := openLog(b, brokers(b), partitions)
			pool := make([][]event.Envelope, 16)
			for i := range pool {
				pool[i] = logtest.MakeEnvelopes(fmt.Sprint(i), batch, benchDataSize)
				for j := range pool[i] {
					pool[i][j].Subject = fmt.Sprintf("component:default/service-%d", j%100)
				}
			}
			b.SetBytes(int64(batch * envelopeSize(pool[0][0])))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if _, err := l.Append(b.Context(), pool[n%len(pool)]); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n*batch)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkReadPartition reads batches of 1000 events of about 1 KB from a partition of
// 50,000, starting over at the beginning when it reaches the end; one op is one
// ReadPartition call.
func BenchmarkReadPartition(b *testing.B) {
	const limit, total = 1000, 50_000
	l := openLog(b, kafkatest.Brokers(b), 1)
	for i := 0; i < total; i += 500 {
		if _, err := l.Append(b.Context(), logtest.MakeEnvelopes(fmt.Sprint(i), 500, benchDataSize)); err != nil {
			b.Fatal(err)
		}
	}
	first, err := l.ReadPartition(b.Context(), 0, 0, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var after int64
	events := 0
	for b.Loop() {
		evs, err := l.ReadPartition(b.Context(), 0, after, limit)
		if err != nil {
			b.Fatal(err)
		}
		events += len(evs)
		if len(evs) == 0 || evs[len(evs)-1].Position >= total {
			after = 0
		} else {
			after = evs[len(evs)-1].Position
		}
	}
	b.SetBytes(int64(events / b.N * envelopeSize(first[0])))
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(events)/float64(b.N), "events/op")
}
