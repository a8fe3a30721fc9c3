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
