package sqlitecatalog_test

import (
	"testing"

	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

func TestByNamePrefix(t *testing.T) {
	t.Parallel()
	storetest.RunNamePrefix(t, func(t *testing.T) catalogstore.Store { return openStore(t) })
}
