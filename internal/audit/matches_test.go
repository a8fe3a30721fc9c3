package audit

import (
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
)

// TestKafkaFilterMatches checks the filter the Kafka audit applies to each
// record it scans, field by field, with the same meaning as the embedded log's
// filtered read: From inclusive, To exclusive.
func TestKafkaFilterMatches(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ev := event.Envelope{Subject: "component:default/a", Actor: "user:default/ada", CorrelationID: "task-1", Type: "backlot.entity.upserted.v1", Time: at}
	for _, c := range []struct {
		name string
		q    EventQuery
		want bool
	}{
		{"no filter", EventQuery{}, true},
		{"subject", EventQuery{Subject: "component:default/a"}, true},
		{"other subject", EventQuery{Subject: "component:default/b"}, false},
		{"actor", EventQuery{Actor: "user:default/ada"}, true},
		{"other actor", EventQuery{Actor: "user:default/bob"}, false},
		{"correlation", EventQuery{Correlation: "task-1"}, true},
		{"other correlation", EventQuery{Correlation: "task-2"}, false},
		{"one of the types", EventQuery{Types: []string{"backlot.entity.removed.v1", "backlot.entity.upserted.v1"}}, true},
		{"none of the types", EventQuery{Types: []string{"backlot.entity.removed.v1"}}, false},
		{"from its instant", EventQuery{From: at}, true},
		{"from after it", EventQuery{From: at.Add(time.Nanosecond)}, false},
		{"to its instant", EventQuery{To: at}, false},
		{"to after it", EventQuery{To: at.Add(time.Nanosecond)}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := matches(&ev, c.q); got != c.want {
				t.Fatalf("matches = %v, want %v", got, c.want)
			}
		})
	}
}

// TestPartitionOfIsKafkasPlacement: a subject's partition is stable and one
// of the partitions given.
func TestPartitionOfIsKafkasPlacement(t *testing.T) {
	parts := []int32{0, 1, 2, 3, 4, 5}
	seen := map[int32]bool{}
	for _, s := range []string{"component:default/a", "component:default/b", "group:default/team", "api:default/x", "user:default/ada", "system:default/shop"} {
		p := partitionOf(s, parts)
		if p < 0 || p > 5 || partitionOf(s, parts) != p {
			t.Fatalf("partition of %s: %d", s, p)
		}
		seen[p] = true
	}
	if len(seen) < 2 {
		t.Fatalf("six subjects all in one partition: %v", seen)
	}
}
