package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/audit"
	"backlot.dev/backlot/internal/bench/gen"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
)

// The whole of `backlot audit replay --data DIR`, measured on a SQLite event
// log of a generated catalog: BACKLOT_AUDIT_BENCH_ENTITIES entities (default
// 100,000) of the bench's generator (every kind, with its annotations as
// ingestion writes them), each upserted BACKLOT_AUDIT_BENCH_VERSIONS times
// (default 3: every version edits one annotation). The log is made once per
// process, in a folder removed when the tests end. BACKLOT_AUDIT_BENCH_LOG
// names an events.db to measure instead: a `bench catalog --keep` data
// folder's, or a path where none is yet, where the generated log is made and
// kept for the next runs. BACKLOT_AUDIT_BENCH_READERS is how many connections
// read the log at once (audit replay --readers; default 1).

var (
	benchLogOnce sync.Once
	benchLogPath string
	benchLogErr  error
	benchLogDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchLogDir != "" {
		os.RemoveAll(benchLogDir)
	}
	os.Exit(code)
}

// envInt is the integer in the environment variable name, or def.
func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}

// replayBenchLog returns the path of the benchmarks' event log.
func replayBenchLog(b *testing.B) string {
	b.Helper()
	entities := envInt(b, "BACKLOT_AUDIT_BENCH_ENTITIES", 100_000)
	versions := envInt(b, "BACKLOT_AUDIT_BENCH_VERSIONS", 3)
	benchLogOnce.Do(func() {
		benchLogDir, benchLogErr = os.MkdirTemp("", "backlot-audit-bench-*")
		if benchLogErr != nil {
			return
		}
		benchLogPath = filepath.Join(benchLogDir, "events.db")
		if p := os.Getenv("BACKLOT_AUDIT_BENCH_LOG"); p != "" {
			benchLogPath = p
			if _, err := os.Stat(p); err == nil {
				return
			}
		}
		start := time.Now()
		benchLogErr = writeBenchLog(benchLogDir, benchLogPath, entities, versions)
		b.Logf("made a log of %d entities × %d versions in %s", entities, versions, time.Since(start).Round(time.Millisecond))
	})
	if benchLogErr != nil {
		b.Fatal(benchLogErr)
	}
	return benchLogPath
}

// writeBenchLog generates a catalog of entities under dir and appends its
// entities' upserts, versions times each, to a new log at path.
func writeBenchLog(dir, path string, entities, versions int) error {
	catDir := filepath.Join(dir, "catalog")
	sum, err := gen.Generate(catDir, gen.Config{Entities: entities, Seed: 1})
	if err != nil {
		return err
	}
	var ents []*catalog.Entity
	var managedBy []string
	files, err := filepath.Glob(filepath.Join(catDir, "*.yaml"))
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		docs, err := catalog.ParseDocuments(f, data, catalog.Limits{})
		if err != nil {
			return err
		}
		for _, d := range docs {
			if d.Err != nil {
				return d.Err
			}
			e, err := catalog.NewEntity(d.Body)
			if err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			ents = append(ents, e)
			managedBy = append(managedBy, "file:"+f)
		}
	}
	if len(ents) != sum.Entities {
		return fmt.Errorf("generated %d entities, parsed %d", sum.Entities, len(ents))
	}
	os.RemoveAll(catDir)

	l, err := sqlitelog.Open(path, sqlitelog.Options{})
	if err != nil {
		return err
	}
	defer l.Close()
	origin := "file:" + sum.RootFile
	batch := make([]event.Envelope, 0, 1000)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := l.Append(context.Background(), batch)
		batch = batch[:0]
		return err
	}
	for v := 1; v <= versions; v++ {
		for i, e := range ents {
			e = e.WithAnnotations(map[string]string{
				catalog.AnnotationManagedByLocation:       managedBy[i],
				catalog.AnnotationManagedByOriginLocation: origin,
				"backlot.dev/bench-version":               strconv.Itoa(v),
			})
			body := e.JSON()
			ev, err := event.New(event.TypeEntityUpserted, e.Ref().Key(), event.EntityUpserted{
				Ref: e.Ref().String(), UID: fmt.Sprintf("bench-uid-%d", i), Hash: catalog.HashJSON(body), Entity: json.RawMessage(body),
				LocationID: "bench", ManagedBy: managedBy[i], OriginLocation: origin,
			}, event.Meta{Actor: "location:bench"})
			if err != nil {
				return err
			}
			if batch = append(batch, ev); len(batch) == cap(batch) {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// replayCommand is what `audit replay --data` does up to its output: the log
// read and folded.
func replayCommand(b *testing.B, path string) *audit.Replay {
	b.Helper()
	r, err := audit.NewSpillingReplay(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	if err := sqlitelog.Stream(context.Background(), path, sqlitelog.StreamOptions{Lean: true, Readers: envInt(b, "BACKLOT_AUDIT_BENCH_READERS", 1), SkipData: audit.SkippedTypes(), Reuse: true}, r.Apply); err != nil {
		b.Fatal(err)
	}
	return r
}

// reportCommand reports events/s and CPU µs per event of the runs so far.
func reportCommand(b *testing.B, events int64, cpu time.Duration) {
	n := float64(b.N) * float64(events)
	b.ReportMetric(n/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-µs/event")
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "procs")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkReplayLog measures the whole replay of the log: reading and
// folding it (fold), and reading, folding and writing it as a tar archive
// (tar) or into a fresh folder (folder).
func BenchmarkReplayLog(b *testing.B) {
	path := replayBenchLog(b)
	b.Run("fold", func(b *testing.B) {
		var events int64
		cpu := cpuTime()
		for b.Loop() {
			events = replayCommand(b, path).Events()
		}
		reportCommand(b, events, cpuTime()-cpu)
	})
	b.Run("tar", func(b *testing.B) {
		var events int64
		out := filepath.Join(b.TempDir(), "catalog.tar")
		cpu := cpuTime()
		for b.Loop() {
			r := replayCommand(b, path)
			f, err := os.Create(out)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := r.WriteTar(context.Background(), f, time.Unix(0, 0)); err != nil {
				b.Fatal(err)
			}
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
			events = r.Events()
		}
		reportCommand(b, events, cpuTime()-cpu)
	})
	b.Run("folder", func(b *testing.B) {
		var events int64
		root := b.TempDir()
		i := 0
		cpu := cpuTime()
		for b.Loop() {
			r := replayCommand(b, path)
			i++
			if _, err := r.WriteYAML(context.Background(), filepath.Join(root, strconv.Itoa(i))); err != nil {
				b.Fatal(err)
			}
			events = r.Events()
		}
		reportCommand(b, events, cpuTime()-cpu)
	})
}
