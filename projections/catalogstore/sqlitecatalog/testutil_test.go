package sqlitecatalog_test

import (
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// upserts makes n upsert events of realistic components with positions from start+1.
func upserts(t testing.TB, start int64, n int) []event.Envelope {
	t.Helper()
	return storetest.Components(t, start, n)
}
