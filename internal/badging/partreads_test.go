package badging_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/badging"
)

// emptyParts is a log of the partitions of its PartitionedLog and empty
// more, which counts the reads of each partition.
type emptyParts struct {
	event.PartitionedLog
	empty []int32
	mu    *sync.Mutex
	reads map[int32]int
}

func (l emptyParts) Partitions(ctx context.Context) ([]int32, error) {
	parts, err := l.PartitionedLog.Partitions(ctx)
	return append(parts, l.empty...), err
}

func (l emptyParts) Heads(ctx context.Context) (event.Positions, error) {
	heads, err := l.PartitionedLog.Heads(ctx)
	for _, p := range l.empty {
		heads[p] = 0
	}
	return heads, err
}

func (l emptyParts) ReadPartition(ctx context.Context, p int32, after int64, limit int) ([]event.Envelope, error) {
	l.mu.Lock()
	l.reads[p]++
	l.mu.Unlock()
	for _, e := range l.empty {
		if p == e {
			return nil, nil
		}
	}
	return l.PartitionedLog.ReadPartition(ctx, p, after, limit)
}

// TestAStepReadsOnlyThePartitionsWithNewEvents checks that the evaluator
// of a log of several partitions reads only those with events after its
// position, and still rates what they hold: a fact report's few events
// are in one partition of many.
func TestAStepReadsOnlyThePartitionsWithNewEvents(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.upsert(comp("api", "production"))
	w.upsert(comp("web", "production", "component:api"))
	w.upsert(policyBody(t))
	var mu sync.Mutex
	log := emptyParts{PartitionedLog: w.log, empty: []int32{1, 2}, mu: &mu, reads: map[int32]int{}}
	e, err := badging.NewEvaluator(badging.EvaluatorConfig{Log: log, Catalog: w.catalog, CatalogWaiter: w.catProj, Store: w.badges, StoreWaiter: w.badgeProj})
	if err != nil {
		t.Fatal(err)
	}
	step := func() {
		t.Helper()
		stepN(t, w.ctx, e, 5)
	}
	step()
	w.append(mustEvent(t, event.TypeFactsReported, "component:default/web", event.FactsReported{Entity: "component:default/web", Source: "ci", Facts: json.RawMessage(`{"coverage": 91}`)}))
	step()
	if bs, err := w.badges.Badges(w.ctx, "component:default/web"); err != nil || len(bs) != 1 || bs[0].Level != "silver" {
		t.Fatalf("web's verdicts after its coverage: %+v (%v)", bs, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if log.reads[1] != 0 || log.reads[2] != 0 {
		t.Errorf("reads by partition %v: the empty partitions 1 and 2 were read", log.reads)
	}
	if log.reads[0] == 0 {
		t.Error("partition 0 was never read")
	}
}
