package catalogsvc_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/catalogsvc"
)

// failingLog fails its appends from the failAt-th on, while fail is set.
type failingLog struct {
	event.PartitionedLog
	appends, failAt atomic.Int64
	fail            atomic.Bool
}

func (l *failingLog) Append(ctx context.Context, evs []event.Envelope) (int64, error) {
	if n := l.appends.Add(1); l.fail.Load() && n >= l.failAt.Load() {
		return 0, errors.New("disk full")
	}
	return l.PartitionedLog.Append(ctx, evs)
}

// TestAFailedBatchFailsTheRefreshAndTheNextOneReadsEverything reads a
// location of many batches whose second append fails: the refresh fails,
// nothing after the failed batch is in the log, and the next refresh, the
// log healthy again, writes every entity once, in file order.
func TestAFailedBatchFailsTheRefreshAndTheNextOneReadsEverything(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var fl *failingLog
	e := newEnvWith(t, func(c *catalogsvc.Config) {
		fl = &failingLog{PartitionedLog: c.Log}
		c.Log = fl
		c.BatchSize = 10
	})
	var docs []string
	for i := range 45 {
		docs = append(docs, component(fmt.Sprintf("c%02d", i), "production"))
	}
	file := e.write(t, "many.yaml", strings.Join(docs, "---\n"))
	// The registration is the first append, the first batch the second:
	// the second batch fails.
	fl.failAt.Store(3)
	fl.fail.Store(true)
	_, err := e.svc.RegisterLocation(ctx, "user:default/ada", "file", file, false)
	var unavailable *catalogsvc.UnavailableError
	if !errors.As(err, &unavailable) {
		t.Fatalf("a refresh whose append failed answered %v, want an UnavailableError", err)
	}
	head, _ := e.log.Head(ctx)
	if head != 11 {
		t.Fatalf("log head %d after the second batch failed, want 11 (the registration and the first batch)", head)
	}
	fl.fail.Store(false)
	if err := e.svc.RefreshAll(ctx); err != nil {
		t.Fatal(err)
	}
	evs, err := e.log.Read(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	upserts := map[string]int{}
	var order []string
	for _, ev := range evs {
		if ev.Type == string(event.TypeEntityUpserted) {
			upserts[ev.Subject]++
			if upserts[ev.Subject] == 1 {
				order = append(order, ev.Subject)
			}
		}
	}
	for i := range 45 {
		key := fmt.Sprintf("component:default/c%02d", i)
		if order[i] != key {
			t.Fatalf("upsert %d is %s, want %s: batches out of order", i, order[i], key)
		}
		if upserts[key] != 1 {
			t.Fatalf("%s upserted %d times, want once", key, upserts[key])
		}
		if !e.exists(t, key) {
			t.Fatalf("%s is not in the catalog after the second refresh", key)
		}
	}
	if len(order) != 45 {
		t.Fatalf("%d entities upserted, want 45", len(order))
	}
}
