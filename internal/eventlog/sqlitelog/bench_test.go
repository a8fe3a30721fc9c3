package sqlitelog

import (
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/logtest"
)

// benchDataSize makes an envelope of about 1 KB in all (data plus attributes).
const benchDataSize = 800

// BenchmarkAppend appends batches of 500 events of about 1 KB, as the
// ingester's; one op is one batch.
func BenchmarkAppend(b *testing.B) {
	const batch = 500
	l := openBench(b)
	// Build the events outside the timed loop; fresh IDs per batch keep them unique.
	pool := make([][]event.Envelope, 64)
	for i := range pool {
		pool[i] = logtest.MakeEnvelopes(fmt.Sprint(i), batch, benchDataSize)
	}
	b.SetBytes(int64(batch * envelopeSize(pool[0][0])))
	benchAppends(b, l, batch, func(n int) []event.Envelope {
		evs := pool[n%len(pool)]
		if n >= len(pool) {
			for i := range evs {
				evs[i].ID = event.NewID()
			}
		}
		return evs
	})
}

// benchAppends appends the batches of batch events next makes (the nth
// from 0 on, made with the timer stopped) for b's loop, and reports events
// per second and the process's CPU microseconds per event.
func benchAppends(b *testing.B, l *Log, batch int, next func(n int) []event.Envelope) {
	b.ReportAllocs()
	n := 0
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		evs := next(n)
		b.StartTimer()
		before := processCPU()
		if _, err := l.Append(b.Context(), evs); err != nil {
			b.Fatal(err)
		}
		cpu += processCPU() - before
		n++
	}
	b.ReportMetric(float64(n*batch)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(n*batch), "cpu-µs/event")
}

// BenchmarkRead reads batches of 1000 events of about 1 KB from a log of 100,000,
// starting over at the beginning when it reaches the end; one op is one batch.
func BenchmarkRead(b *testing.B) {
	const batch, total = 1000, 100_000
	l := openBench(b)
	for i := 0; i < total; i += 1000 {
		if _, err := l.Append(b.Context(), logtest.MakeEnvelopes(fmt.Sprint(i), 1000, benchDataSize)); err != nil {
			b.Fatal(err)
		}
	}
	first, err := l.Read(b.Context(), 0, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(batch * envelopeSize(first[0])))
	b.ReportAllocs()
	var after int64
	events := 0
	for b.Loop() {
		evs, err := l.Read(b.Context(), after, batch)
		if err != nil {
			b.Fatal(err)
		}
		events += len(evs)
		if len(evs) < batch {
			after = 0
		} else {
			after = evs[len(evs)-1].Position
		}
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

func openBench(b *testing.B) *Log {
	b.Helper()
	l, err := Open(b.TempDir()+"/events.db", Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	return l
}

// envelopeSize is the number of bytes of e's attributes and data.
func envelopeSize(e event.Envelope) int {
	return len(e.ID) + len(e.Source) + len(e.SpecVersion) + len(e.Type) + len(e.Subject) + 8 +
		len(e.DataContentType) + len(e.DataSchema) + len(e.Actor) + len(e.Commit) + len(e.CorrelationID) + len(e.Data)
}

// BenchmarkVerify recomputes the hash chain of a log of 20,000 events of about
// 1 KB; one op is one whole verification. It reports events per second and
// CPU microseconds per event.
func BenchmarkVerify(b *testing.B) {
	const total = 20_000
	l := openBench(b)
	for i := 0; i < total; i += 1000 {
		if _, err := l.Append(b.Context(), logtest.MakeEnvelopes(fmt.Sprint(i), 1000, benchDataSize)); err != nil {
			b.Fatal(err)
		}
	}
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	for b.Loop() {
		rep, err := l.Verify(b.Context(), VerifyOptions{})
		if err != nil || !rep.OK() || rep.Events != total {
			b.Fatalf("verify: %+v, %v", rep, err)
		}
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	events := float64(b.N) * total
	b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Microseconds())/events, "cpu-µs/event")
}

// BenchmarkAppendVerdicts appends batches shaped as the policy evaluator's
// (internal/badging): 2,000 badge events of one policy of 20 checks, about
// components in the catalog's order, of about 1.2 KB each, to a log that
// already holds 20,000 of them; one op is one batch.
func BenchmarkAppendVerdicts(b *testing.B) {
	const batch, prefill = 2000, 20_000
	l := openBench(b)
	next := 0
	mk := func() []event.Envelope {
		evs := verdictEnvelopes(next, batch)
		next += batch
		return evs
	}
	for i := 0; i < prefill; i += batch {
		if _, err := l.Append(b.Context(), mk()); err != nil {
			b.Fatal(err)
		}
	}
	pool := mk()
	b.SetBytes(int64(batch * envelopeSize(pool[0])))
	benchAppends(b, l, batch, func(int) []event.Envelope { return mk() })
}

// processCPU is the CPU time the process has used, user and system: an
// append's CPU time includes its work on other goroutines (the digests).
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// verdictEnvelopes returns n badge events as the evaluator appends them, about
// the components from first on.
func verdictEnvelopes(first, n int) []event.Envelope {
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	levels := []string{"bronze", "silver", "gold", "platinum"}
	evs := make([]event.Envelope, n)
	for i := range evs {
		key := fmt.Sprintf("component:default/service-%07d", first+i)
		d := event.BadgeChanged{Entity: key, EntityHash: fmt.Sprintf("%064x", first+i), Owner: "group:default/team-7",
			Policy: "bench", Applies: true, Level: "silver", LevelRank: 2, Changed: []string{}}
		for c := range 20 {
			d.Checks = append(d.Checks, event.CheckOutcome{ID: fmt.Sprintf("c%02d", c+1), Level: levels[c/5], Passed: c < 10 || (first+i+c)%3 == 0})
		}
		raw, err := json.Marshal(d)
		if err != nil {
			panic(err)
		}
		evs[i] = event.Envelope{
			ID:              event.NewID(),
			Source:          event.DefaultSource,
			SpecVersion:     event.SpecVersion,
			Type:            string(event.TypeBadgeAwarded),
			Subject:         key,
			Time:            at,
			DataContentType: event.ContentTypeJSON,
			DataSchema:      event.TypeBadgeAwarded.SchemaURI(),
			Actor:           "backlot:policies",
			Data:            raw,
		}
	}
	return evs
}
