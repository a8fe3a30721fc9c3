package catalogsvc_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/catalogsvc"
	"backlot.dev/backlot/internal/ingest"
	"backlot.dev/backlot/internal/pglease"
	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/storekit/pgkit"
)

// TestTwoIngestersShareLocationsThroughLeases runs two catalog services on one
// log and read model, as two ingester processes do, with leases in PostgreSQL:
// the refresh round skips a location the other refreshed within the interval,
// and a location last refreshed by the other is read afresh, not judged by this
// process's memo of unchanged files.
func TestTwoIngestersShareLocationsThroughLeases(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	pool, err := pgkit.NewPool(pgtest.URL(t), 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	const interval = 400 * time.Millisecond
	newIngester := func(holder string) *catalogsvc.Service {
		lock, err := pglease.New(ctx, pool, holder, pglease.Options{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		roots, _ := ingest.NewRoots([]string{e.root})
		return catalogsvc.New(catalogsvc.Config{Log: event.SinglePartition(e.log), Store: e.store, Waiter: e.waiter,
			Lock: lock, Reader: ingest.NewReader(ingest.Config{Roots: roots}), Logger: quiet,
			RefreshInterval: interval, WriteTimeout: 10 * time.Second})
	}
	a, b := newIngester("a"), newIngester("b")
	lifecycle := func() string {
		t.Helper()
		v, err := e.store.ByKeys(ctx, []string{"component:default/svc"})
		if err != nil || v[0] == nil {
			t.Fatalf("svc: %v", err)
		}
		var body struct {
			Spec struct{ Lifecycle string } `json:"spec"`
		}
		json.Unmarshal(v[0].Body, &body)
		return body.Spec.Lifecycle
	}

	file := e.write(t, "svc.yaml", component("svc", "v1"))
	res, err := a.RegisterLocation(ctx, "user:default/ada", "file", file, false)
	if err != nil {
		t.Fatal(err)
	}
	// b refreshes v2; the file goes back to v1; a, whose memo still says v1,
	// must read it again because b made the last refresh.
	e.write(t, "svc.yaml", component("svc", "v2"))
	if _, err := b.RefreshLocation(ctx, res.Location); err != nil {
		t.Fatal(err)
	}
	e.write(t, "svc.yaml", component("svc", "v1"))
	if _, err := a.RefreshLocation(ctx, res.Location); err != nil {
		t.Fatal(err)
	}
	if got := lifecycle(); got != "v1" {
		t.Fatalf("after a's refresh the catalog says %s, want v1 (a trusted its stale memo)", got)
	}

	// The refresh round: right after a refreshed, b's round skips the location.
	e.write(t, "svc.yaml", component("svc", "v3"))
	if err := b.RefreshAll(ctx); err != nil {
		t.Fatal(err)
	}
	if got := lifecycle(); got != "v1" {
		t.Fatalf("b's round refreshed a location a refreshed just now: %s", got)
	}
	time.Sleep(interval + 100*time.Millisecond)
	if err := b.RefreshAll(ctx); err != nil {
		t.Fatal(err)
	}
	if got := lifecycle(); got != "v3" {
		t.Fatalf("b's round after the interval: %s, want v3", got)
	}
}
