package pgcatalog_test

import (
	"context"
	"testing"

	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

func TestByNamePrefix(t *testing.T) {
	t.Parallel()
	storetest.RunNamePrefix(t, func(t *testing.T) catalogstore.Store { return openStore(t) })
}

// A picker's read is a range of an index that stops at its limit: in a
// catalog of 6,000 components, analyzed, the first 51 of a kind, of a prefix
// or of any kind read at most prefixMaxRead rows of entities.
func TestByNamePrefixReadsAFewRows(t *testing.T) {
	t.Parallel()
	const prefixMaxRead = 200
	ctx := context.Background()
	s := openStore(t)
	if err := s.BeginBulk(ctx); err != nil {
		t.Fatal(err)
	}
	storetest.ApplyInBatches(t, s, storetest.Components(t, 0, 6000), 2000)
	if err := s.EndBulk(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `ANALYZE entities`); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ kind, prefix string }{
		{"component", ""}, {"component", "service-1"}, {"", "service-2"}, {"", ""}, {"group", "team"},
	} {
		stmt, args := pgcatalog.PrefixStatement(c.kind, c.prefix, 51)
		if read, scans := statementReads(t, s, stmt, args); read > prefixMaxRead {
			t.Errorf("kind %q prefix %q: %.0f rows read, want at most %d: %v", c.kind, c.prefix, read, prefixMaxRead, scans)
		}
	}
}
