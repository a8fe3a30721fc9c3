package sqlitesubs_test

import (
	"path/filepath"
	"testing"

	"backlot.dev/backlot/internal/webhooks"
	"backlot.dev/backlot/internal/webhooks/sqlitesubs"
	"backlot.dev/backlot/internal/webhooks/substest"
)

func TestContract(t *testing.T) {
	substest.Run(t, substest.Features{Cursors: true}, func(t *testing.T) (webhooks.Store, func() webhooks.Store) {
		path := filepath.Join(t.TempDir(), "webhooks.db")
		open := func() webhooks.Store {
			s, err := sqlitesubs.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
		return open(), open
	})
}
