package badging_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/badging"
)

// readWatch is a log that counts the events read through it by type.
type readWatch struct {
	event.PartitionedLog
	mu   *sync.Mutex
	read map[string]int
}

func (l readWatch) ReadPartition(ctx context.Context, p int32, after int64, limit int) ([]event.Envelope, error) {
	evs, err := l.PartitionedLog.ReadPartition(ctx, p, after, limit)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ev := range evs {
		l.read[ev.Type]++
	}
	return evs, err
}

// TestTheEvaluatorDoesNotReadBackItsOwnEvents checks that the events a full
// evaluation appends (each component's catalog facts and first verdict) are
// not read back by the evaluator, which would only pass over them, while it
// still handles the log up to its head and reads another writer's events
// that came after them.
func TestTheEvaluatorDoesNotReadBackItsOwnEvents(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.upsert(comp("api", "production"))
	w.upsert(comp("web", "production", "component:api"))
	w.upsert(policyBody(t))
	var mu sync.Mutex
	log := readWatch{PartitionedLog: w.log, mu: &mu, read: map[string]int{}}
	e, err := badging.NewEvaluator(badging.EvaluatorConfig{Log: log, Catalog: w.catalog, CatalogWaiter: w.catProj, Store: w.badges, StoreWaiter: w.badgeProj})
	if err != nil {
		t.Fatal(err)
	}
	step := func() {
		t.Helper()
		stepN(t, w.ctx, e, 5)
	}
	step()
	head, err := w.log.Heads(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Handled(); got[0] != head[0] {
		t.Fatalf("handled %v, the log's head is %v", got, head)
	}
	if pos, err := w.badges.EvaluatorPositions(w.ctx); err != nil || pos[0] != head[0] {
		t.Fatalf("recorded position %v (%v), the log's head is %v", pos, err, head)
	}
	mu.Lock()
	if log.read[string(event.TypeBadgeAwarded)] != 0 || log.read[string(event.TypeFactsReported)] != 0 {
		t.Errorf("the evaluator read back its own events: %v", log.read)
	}
	mu.Unlock()
	if bs, err := w.badges.Badges(w.ctx, "component:default/web"); err != nil || len(bs) != 1 || bs[0].Level != "bronze" {
		t.Fatalf("web's verdicts: %+v (%v)", bs, err)
	}
	// Another writer's facts after them are read and acted on.
	w.append(mustEvent(t, event.TypeFactsReported, "component:default/web", event.FactsReported{Entity: "component:default/web", Source: "ci", Facts: json.RawMessage(`{"coverage": 91}`)}))
	step()
	if bs, err := w.badges.Badges(w.ctx, "component:default/web"); err != nil || len(bs) != 1 || bs[0].Level != "silver" {
		t.Fatalf("web's verdicts after its coverage: %+v (%v)", bs, err)
	}
	mu.Lock()
	if got := log.read[string(event.TypeFactsReported)]; got != 1 {
		t.Errorf("%d facts events read, want the one reported by another writer", got)
	}
	mu.Unlock()
}
