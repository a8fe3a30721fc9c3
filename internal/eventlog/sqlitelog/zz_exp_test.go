package sqlitelog

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/logtest"
)

func (l *Log) readRaw(ctx context.Context, after int64, limit int, copyData bool) ([]event.Envelope, error) {
	c, err := l.rdb.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var evs []event.Envelope
	err = c.Raw(func(dc any) error {
		rows, err := dc.(driver.QueryerContext).QueryContext(ctx, readSQL, []driver.NamedValue{{Ordinal: 1, Value: after}, {Ordinal: 2, Value: int64(limit)}})
		if err != nil {
			return err
		}
		defer rows.Close()
		evs = make([]event.Envelope, 0, min(limit, 1024))
		dest := make([]driver.Value, 13)
		for {
			if err := rows.Next(dest); err == io.EOF {
				break
			} else if err != nil {
				return err
			}
			s := func(i int) string { v, _ := dest[i].(string); return v }
			e := event.Envelope{Position: dest[0].(int64), ID: s(1), Source: s(2), SpecVersion: s(3), Type: s(4), Subject: s(5),
				Time: time.Unix(0, dest[6].(int64)).UTC(), DataContentType: s(7), DataSchema: s(8), Actor: s(9), Commit: s(10), CorrelationID: s(11)}
			d, _ := dest[12].([]byte)
			if copyData {
				e.Data = append([]byte(nil), d...)
			} else {
				e.Data = d
			}
			evs = append(evs, e)
		}
		return nil
	})
	return evs, err
}

func BenchmarkReadExp(b *testing.B) {
	const batch, total = 1000, 100_000
	l := openBench(b)
	for i := 0; i < total; i += 1000 {
		if _, err := l.Append(b.Context(), logtest.MakeEnvelopes(fmt.Sprint(i), 1000, benchDataSize)); err != nil {
			b.Fatal(err)
		}
	}
	for _, mode := range []string{"packed", "packed-raw"} {
		b.Run(mode, func(b *testing.B) {
			var after int64
			events := 0
			cpu0 := cpuTime()
			for b.Loop() {
				var evs []event.Envelope
				var err error
				switch mode {
				case "sql":
					evs, err = l.Read(b.Context(), after, batch)
				case "packed-raw":
					evs, err = l.readPackedRaw(b.Context(), after, batch)
				case "packed":
					evs, err = l.readPacked(b.Context(), after, batch)
				default:
					evs, err = l.readRaw(b.Context(), after, batch, mode == "raw-copy")
				}
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
			b.ReportMetric(float64(events)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

const packedSQL = `SELECT position, time, id || char(0) || source || char(0) || specversion || char(0) || type || char(0) || subject || char(0) ||
	datacontenttype || char(0) || dataschema || char(0) || actor || char(0) || commit_sha || char(0) || correlation_id, data
	FROM events WHERE position > ? ORDER BY position LIMIT ?`

func (l *Log) readPacked(ctx context.Context, after int64, limit int) ([]event.Envelope, error) {
	rows, err := l.rdb.QueryContext(ctx, packedSQL, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	evs := make([]event.Envelope, 0, min(limit, 1024))
	for rows.Next() {
		var e event.Envelope
		var ns int64
		var packed string
		var data []byte
		if err := rows.Scan(&e.Position, &ns, &packed, &data); err != nil {
			return nil, err
		}
		var f [10]string
		for i := range 9 {
			j := strings.IndexByte(packed, 0)
			f[i], packed = packed[:j], packed[j+1:]
		}
		f[9] = packed
		e.ID, e.Source, e.SpecVersion, e.Type, e.Subject, e.DataContentType, e.DataSchema, e.Actor, e.Commit, e.CorrelationID =
			f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9]
		e.Time = time.Unix(0, ns).UTC()
		e.Data = data
		evs = append(evs, e)
	}
	return evs, rows.Err()
}

func (l *Log) readPackedRaw(ctx context.Context, after int64, limit int) ([]event.Envelope, error) {
	c, err := l.rdb.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var evs []event.Envelope
	err = c.Raw(func(dc any) error {
		rows, err := dc.(driver.QueryerContext).QueryContext(ctx, packedSQL, []driver.NamedValue{{Ordinal: 1, Value: after}, {Ordinal: 2, Value: int64(limit)}})
		if err != nil {
			return err
		}
		defer rows.Close()
		evs = make([]event.Envelope, 0, min(limit, 1024))
		dest := make([]driver.Value, 4)
		for {
			if err := rows.Next(dest); err == io.EOF {
				break
			} else if err != nil {
				return err
			}
			var e event.Envelope
			e.Position = dest[0].(int64)
			e.Time = time.Unix(0, dest[1].(int64)).UTC()
			packed := dest[2].(string)
			var f [10]string
			for i := range 9 {
				j := strings.IndexByte(packed, 0)
				f[i], packed = packed[:j], packed[j+1:]
			}
			f[9] = packed
			e.ID, e.Source, e.SpecVersion, e.Type, e.Subject, e.DataContentType, e.DataSchema, e.Actor, e.Commit, e.CorrelationID =
				f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9]
			e.Data = append([]byte(nil), dest[3].([]byte)...)
			evs = append(evs, e)
		}
		return nil
	})
	return evs, err
}

func TestExpPrepare(t *testing.T) {
	path := os.Getenv("EXP_DB")
	if path == "" {
		t.Skip()
	}
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if os.Getenv("EXP_FILL") != "" {
		for i := 0; i < 20000; i += 1000 {
			if _, err := l.Append(t.Context(), logtest.MakeEnvelopes(fmt.Sprint(i), 1000, benchDataSize)); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	mode := os.Getenv("EXP_MODE")
	reads, _ := strconv.Atoi(os.Getenv("EXP_READS"))
	var after int64
	for range reads {
		var evs []event.Envelope
		switch mode {
		case "sql":
			evs, err = l.Read(t.Context(), after, 1000)
		case "packed":
			evs, err = l.readPacked(t.Context(), after, 1000)
		case "packed-raw":
			evs, err = l.readPackedRaw(t.Context(), after, 1000)
		case "raw-copy":
			evs, err = l.readRaw(t.Context(), after, 1000, true)
		}
		if err != nil {
			t.Fatal(err)
		}
		after = evs[len(evs)-1].Position
		if after >= 20000 {
			after = 0
		}
	}
}

func TestExpCompare(t *testing.T) {
	path := os.Getenv("EXP_DB")
	if path == "" || os.Getenv("EXP_COMPARE") == "" {
		t.Skip()
	}
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	modes := strings.Split(os.Getenv("EXP_COMPARE"), ",")
	bestWall := map[string]time.Duration{}
	bestCPU := map[string]time.Duration{}
	const reads = 40
	for round := 0; round < 25; round++ {
		for _, mode := range modes {
			w0, c0 := time.Now(), cpuTime()
			var after int64
			for range reads {
				var evs []event.Envelope
				switch mode {
				case "sql":
					evs, err = l.Read(t.Context(), after, 1000)
				case "packed":
					evs, err = l.readPacked(t.Context(), after, 1000)
				case "packed-raw":
					evs, err = l.readPackedRaw(t.Context(), after, 1000)
				case "raw-copy":
					evs, err = l.readRaw(t.Context(), after, 1000, true)
				}
				if err != nil {
					t.Fatal(err)
				}
				after = evs[len(evs)-1].Position
				if after >= 20000 {
					after = 0
				}
			}
			w, c := time.Since(w0), cpuTime()-c0
			if bestWall[mode] == 0 || w < bestWall[mode] {
				bestWall[mode] = w
			}
			if bestCPU[mode] == 0 || c < bestCPU[mode] {
				bestCPU[mode] = c
			}
		}
	}
	for _, m := range modes {
		t.Logf("%-12s best wall %6.0f events/s   best cpu %6.0f events/cpu-s", m,
			reads*1000/bestWall[m].Seconds(), reads*1000/bestCPU[m].Seconds())
	}
}

func TestExpAppend(t *testing.T) {
	if os.Getenv("EXP_APPEND") == "" {
		t.Skip()
	}
	modes := map[string][]string{
		"default":  nil,
		"cache64m": {"cache_size(-65536)"},
		"ckpt10k":  {"wal_autocheckpoint(10000)"},
		"both":     {"cache_size(-65536)", "wal_autocheckpoint(10000)"},
		"cache16m": {"cache_size(-16384)"},
	}
	names := strings.Split(os.Getenv("EXP_APPEND"), ",")
	best := map[string]time.Duration{}
	bestW := map[string]time.Duration{}
	for round := 0; round < 3; round++ {
		for _, m := range names {
			expWritePragmas = modes[m]
			l, err := Open(filepath.Join(t.TempDir(), "a.db"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 40; i++ {
				evs := logtest.MakeEnvelopes("x", 500, benchDataSize)
				if _, err := l.Append(t.Context(), evs); err != nil {
					t.Fatal(err)
				}
			}
			batches := make([][]event.Envelope, 40)
			for i := range batches {
				batches[i] = logtest.MakeEnvelopes("y", 500, benchDataSize)
			}
			w0, c0 := time.Now(), cpuTime()
			for _, evs := range batches {
				if _, err := l.Append(t.Context(), evs); err != nil {
					t.Fatal(err)
				}
			}
			c, w := cpuTime()-c0, time.Since(w0)
			if best[m] == 0 || c < best[m] {
				best[m] = c
			}
			if bestW[m] == 0 || w < bestW[m] {
				bestW[m] = w
			}
			l.Close()
		}
	}
	for _, m := range names {
		t.Logf("%-10s best cpu %6.0f events/cpu-s  best wall %6.0f events/s", m, 20000/best[m].Seconds(), 20000/bestW[m].Seconds())
	}
}

func (l *Log) insertMulti(ctx context.Context, events []event.Envelope, chunk int) error {
	tx, err := l.wdb.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	row := "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	q := `INSERT INTO events (id, source, specversion, type, subject, time, datacontenttype, dataschema, actor, commit_sha, correlation_id, data) VALUES ` + row + strings.Repeat(", "+row, chunk-1)
	stmt, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return err
	}
	args := make([]any, 0, 12*chunk)
	for i := 0; i < len(events); i += chunk {
		args = args[:0]
		for _, e := range events[i : i+chunk] {
			args = append(args, e.ID, e.Source, e.SpecVersion, e.Type, e.Subject, e.Time.UnixNano(), e.DataContentType, e.DataSchema, e.Actor, e.Commit, e.CorrelationID, []byte(e.Data))
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func TestExpMulti(t *testing.T) {
	if os.Getenv("EXP_MULTI") == "" {
		t.Skip()
	}
	names := []string{"row", "multi50", "multi100"}
	best := map[string]time.Duration{}
	for round := 0; round < 3; round++ {
		for _, m := range names {
			l, err := Open(filepath.Join(t.TempDir(), "a.db"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			run := func(evs []event.Envelope) {
				var err error
				switch m {
				case "row":
					_, err = l.Append(t.Context(), evs)
				case "multi50":
					err = l.insertMulti(t.Context(), evs, 50)
				case "multi100":
					err = l.insertMulti(t.Context(), evs, 100)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < 40; i++ {
				run(logtest.MakeEnvelopes("x", 500, benchDataSize))
			}
			batches := make([][]event.Envelope, 40)
			for i := range batches {
				batches[i] = logtest.MakeEnvelopes("y", 500, benchDataSize)
			}
			c0 := cpuTime()
			for _, evs := range batches {
				run(evs)
			}
			c := cpuTime() - c0
			if best[m] == 0 || c < best[m] {
				best[m] = c
			}
			l.Close()
		}
	}
	for _, m := range names {
		t.Logf("%-10s best cpu %6.0f events/cpu-s", m, 20000/best[m].Seconds())
	}
}
