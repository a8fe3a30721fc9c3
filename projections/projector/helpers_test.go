package projector_test

import (
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
	"backlot.dev/backlot/projections/projector"
)

// The SQLite catalog store, which the tests fold into, lets a projector drop
// indexes during a backlog.
var _ projector.BulkLoader = (*sqlitecatalog.Store)(nil)

// upserts makes n upsert events of realistic components with positions from start+1.
func upserts(t testing.TB, start int64, n int) []event.Envelope {
	t.Helper()
	return storetest.Components(t, start, n)
}
