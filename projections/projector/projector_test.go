package projector_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"sync"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
	"backlot.dev/backlot/projections/projector"
)

// memLog is an in-memory event.Log for projector tests.
type memLog struct {
	mu  sync.Mutex
	evs []event.Envelope
}

func (l *memLog) Append(_ context.Context, evs []event.Envelope) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range evs {
		evs[i].Position = int64(len(l.evs)) + 1
		l.evs = append(l.evs, evs[i])
	}
	return int64(len(l.evs)), nil
}

func (l *memLog) Read(_ context.Context, after int64, limit int) ([]event.Envelope, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if after >= int64(len(l.evs)) {
		return nil, nil
	}
	end := min(int(after)+limit, len(l.evs))
	return append([]event.Envelope(nil), l.evs[after:end]...), nil
}

func (l *memLog) Head(context.Context) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(len(l.evs)), nil
}

func (l *memLog) Wait(ctx context.Context, after int64) (int64, error) {
	<-ctx.Done()
	return after, ctx.Err()
}

func (l *memLog) Close() error { return nil }

func TestProjectorBulkModeFoldsTheSameReadModel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := &memLog{}
	evs := upserts(t, 0, 120)
	if _, err := log.Append(ctx, evs); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	fold := func(threshold int64) (*sqlitecatalog.Store, string) {
		s, path := storetest.OpenSQLiteFile(t)
		p := projector.New(event.SinglePartition(log), s, projector.Options{BatchSize: 25, BulkThreshold: threshold, Logger: quiet})
		pos, err := p.CatchUp(ctx)
		if err != nil || pos[0] != 120 {
			t.Fatalf("caught up to %d (%v), want 120", pos, err)
		}
		return s, storetest.SQLiteTables(t, path)
	}
	bulk, bulkDump := fold(10)
	_, plainDump := fold(-1)
	if bulkDump != plainDump {
		t.Fatal("bulk mode folded a different read model")
	}
	// The indexes are back: a filtered query and a relation filter answer.
	page, err := bulk.Query(ctx, catalogstore.PageQuery{CountTotal: true, Filter: catalogstore.Filter{{
		{Key: "spec.type", Values: []string{"service"}},
		{Key: "relations.ownedBy", Values: []string{"group:default/team-0"}},
	}}})
	if err != nil || page.TotalItems != 1 {
		t.Fatalf("after bulk mode: total %d (%v), want 1", page.TotalItems, err)
	}
}

// A backlog whose events fill whole batches ends on a full batch; the
// projector must still leave bulk mode once it reaches the head, or the
// read model stays without its indexes, answering every filter by scans.
func TestProjectorLeavesBulkModeAfterABacklogOfWholeBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := &memLog{}
	if _, err := log.Append(ctx, upserts(t, 0, 125)); err != nil {
		t.Fatal(err)
	}
	s, path := storetest.OpenSQLiteFile(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := projector.New(event.SinglePartition(log), s, projector.Options{BatchSize: 25, BulkThreshold: 10, Logger: quiet})
	if pos, err := p.CatchUp(ctx); err != nil || pos[0] != 125 {
		t.Fatalf("caught up to %v (%v), want 125", pos, err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, ix := range []string{"search_key_value", "relations_type_target", "relations_target"} {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, ix).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("index %s missing after the backlog: the projector stayed in bulk mode", ix)
		}
	}
}
