package sqlitecatalog_test

import (
	"testing"

	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// TestOwnedByYieldsTheFilesAsked: a refresh of a few files of a location
// reads back those files' entities alone.
func TestOwnedByYieldsTheFilesAsked(t *testing.T) {
	t.Parallel()
	storetest.CheckOwnedBy(t, openStore(t))
}
