package pgcatalog_test

import (
	"testing"

	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// TestByKeyCappedReadsAsByKeysWithinTheCap: an entity read with its
// relations capped has each type's count, at most the cap of each, and
// what ByKeys reads when no type exceeds the cap.
func TestByKeyCappedReadsAsByKeysWithinTheCap(t *testing.T) {
	t.Parallel()
	storetest.CheckByKeyCapped(t, openStore(t))
}

// BenchmarkByKeyCapped: a group that owns 20,000 components read whole and
// capped, as the entity page read it before and reads it now.
func BenchmarkByKeyCapped(b *testing.B) {
	storetest.BenchByKeyCapped(b, openStore(b), 20000)
}
