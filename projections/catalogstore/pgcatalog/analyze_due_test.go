package pgcatalog

import "testing"

// A first ingestion of 100,000 entities, folded in batches of 500, is
// analyzed as its events double, not after every tenth more: each ANALYZE
// samples as many rows once the tables are large, so their number is their
// cost.
func TestAnalyzesAsTheEventsDouble(t *testing.T) {
	t.Parallel()
	var at []int64
	var last int64
	for w := int64(500); w <= 100_000; w += 500 {
		if analyzeDue(w, last) {
			at = append(at, w)
			last = w
		}
	}
	want := []int64{2000, 4000, 8000, 16000, 32000, 64000}
	if len(at) != len(want) {
		t.Fatalf("analyzed after %v events, want %v", at, want)
	}
	for i := range want {
		if at[i] != want[i] {
			t.Fatalf("analyzed after %v events, want %v", at, want)
		}
	}
}
