package sqlitebadges

import (
	"path/filepath"
	"testing"
)

// TestTheWriterKeepsItsJournalsInMemoryAndCheckpointsRarely checks the
// writer's settings (writerPragmas): statement journals in memory and a
// checkpoint every 10,000 WAL pages.
func TestTheWriterKeepsItsJournalsInMemoryAndCheckpointsRarely(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "badges.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct {
		pragma string
		want   int
	}{
		{"temp_store", 2}, // MEMORY
		{"wal_autocheckpoint", 10000},
	} {
		var got int
		if err := s.write.QueryRow(`PRAGMA ` + tc.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("writer's %s = %d, want %d", tc.pragma, got, tc.want)
		}
	}
}
