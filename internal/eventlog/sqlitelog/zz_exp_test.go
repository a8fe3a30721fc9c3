package sqlitelog

import (
	"syscall"
	"context"
	"database/sql/driver"
	"fmt"
	"io"
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
	for _, mode := range []string{"sql", "raw-copy", "raw-nocopy", "sql", "raw-copy", "raw-nocopy", "sql", "raw-copy", "raw-nocopy"} {
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
