package histtest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/history"
)

// BenchEvents returns the events of n components edited versions times each,
// in rounds (every component's version r before any version r+1), in
// partition 0 at positions 1 to n*versions, one millisecond apart from Epoch.
func BenchEvents(tb testing.TB, n, versions int) []event.Envelope {
	tb.Helper()
	out := make([]event.Envelope, 0, n*versions)
	for r := 0; r < versions; r++ {
		for i := 0; i < n; i++ {
			body, err := json.Marshal(map[string]any{
				"apiVersion": "backstage.io/v1alpha1",
				"kind":       "Component",
				"metadata": map[string]any{"name": fmt.Sprintf("service-%d", i), "namespace": "default",
					"description": fmt.Sprintf("Service number %d, revision %d.", i, r), "tags": []any{"go", "backend"},
					"annotations": map[string]any{"github.com/project-slug": fmt.Sprintf("org/service-%d", i)}},
				"spec": map[string]any{"type": "service", "lifecycle": "production", "owner": fmt.Sprintf("team-%d", (i+r)%40),
					"system": fmt.Sprintf("system-%d", i%50)},
			})
			if err != nil {
				tb.Fatal(err)
			}
			pos := int64(len(out) + 1)
			key := fmt.Sprintf("component:default/service-%d", i)
			d, err := json.Marshal(event.EntityUpserted{Ref: key, UID: fmt.Sprintf("uid-%d", i), Hash: catalog.HashJSON(body),
				Entity: body, LocationID: "L1", ManagedBy: "file:/catalog/all.yaml", OriginLocation: "file:/catalog/all.yaml"})
			if err != nil {
				tb.Fatal(err)
			}
			out = append(out, event.Envelope{ID: fmt.Sprintf("bench-%d", pos), Source: event.DefaultSource, SpecVersion: event.SpecVersion,
				Type: string(event.TypeEntityUpserted), Subject: key, Time: Epoch.Add(time.Duration(pos) * time.Millisecond),
				DataContentType: event.ContentTypeJSON, Actor: "location:L1", Data: d, Position: pos, Partition: 0})
		}
	}
	return out
}

// BenchCurrent measures Current on s, which holds BenchEvents(n, versions):
// the whole catalog at the middle of its history by position and by time, at
// its head, and a page of 100 at the middle.
func BenchCurrent(b *testing.B, s history.Reader, n, versions int) {
	mid := int64(n*versions/2 + n/3)
	cases := []struct {
		name  string
		at    history.Instant
		limit int
	}{
		{"all/position-mid", history.AtPositions(event.Positions{0: mid}), 0},
		{"all/time-mid", history.AtTime(Epoch.Add(time.Duration(mid) * time.Millisecond)), 0},
		{"all/head", history.AtPositions(event.Positions{0: int64(n * versions)}), 0},
		{"page100/position-mid", history.AtPositions(event.Positions{0: mid}), 100},
		{"page100/time-mid", history.AtTime(Epoch.Add(time.Duration(mid) * time.Millisecond)), 100},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				after, want := "", n
				if c.limit > 0 {
					after, want = "component:default/service-5", c.limit
				}
				vs, err := s.Current(context.Background(), c.at, after, c.limit)
				if err != nil {
					b.Fatal(err)
				}
				if len(vs) != want {
					b.Fatalf("%d versions, want %d", len(vs), want)
				}
			}
		})
	}
}

// BenchVersions is how many versions of each entity the benchmarks load.
const BenchVersions = 10

// BenchEntities is how many entities a Current benchmark loads:
// BACKLOT_BENCH_HISTORY_ENTITIES or 100,000.
func BenchEntities() int {
	if n, err := strconv.Atoi(os.Getenv("BACKLOT_BENCH_HISTORY_ENTITIES")); err == nil && n > 0 {
		return n
	}
	return 100000
}

// LoadBench applies BenchEvents(n, BenchVersions) to s in batches of 5,000
// events and logs how fast they went in.
func LoadBench(b *testing.B, s history.Store, n int) {
	b.Helper()
	evs := BenchEvents(b, n, BenchVersions)
	start := time.Now()
	ApplyInBatches(b, s, evs, 5000)
	b.Logf("loaded %d events in %v (%.0f events/s)", len(evs), time.Since(start), float64(len(evs))/time.Since(start).Seconds())
}

// BenchApply measures Apply's throughput: 2,000 entities of BenchVersions
// versions each, in batches of 1,000 events, into a fresh store from open on
// every run, closed after it. Opening and closing are not timed.
func BenchApply(b *testing.B, open func(b *testing.B) history.Store) {
	evs := BenchEvents(b, 2000, BenchVersions)
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		s := open(b)
		b.StartTimer()
		from := ProcessCPU()
		ApplyInBatches(b, s, evs, 1000)
		cpu += ProcessCPU() - from
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/1000/float64(len(evs)*b.N), "cpu-µs/event")
}

// ProcessCPU returns the CPU time (user and system) the process has used:
// what benchmarks report beside the wall time, which other work on a shared
// machine disturbs far more. A store in another process (PostgreSQL) is not
// counted.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
