package sqlitecatalog

import (
	"strings"
	"testing"
)

// TestInsertSQL: insertSQL renders the same statement for every number of
// rows, and builds a statement of bulkRows rows only once per shape. (Not
// parallel: AllocsPerRun counts the whole process's allocations.)
func TestInsertSQL(t *testing.T) {
	const table = "search(eid, kid, value, original, item)"
	if got, want := insertSQL("INSERT", table, 2, 2), "INSERT INTO "+table+" VALUES (?,?),(?,?)"; got != want {
		t.Fatalf("insertSQL of 2 rows = %q, want %q", got, want)
	}
	full := insertSQL("INSERT OR IGNORE", table, searchCols, bulkRows)
	if want := buildInsertSQL("INSERT OR IGNORE", table, searchCols, bulkRows); full != want {
		t.Fatalf("insertSQL of bulkRows rows differs from its rendering")
	}
	if n := strings.Count(full, "?"); n != searchCols*bulkRows {
		t.Fatalf("insertSQL of bulkRows rows has %d parameters, want %d", n, searchCols*bulkRows)
	}
	allocs := testing.AllocsPerRun(20, func() {
		_ = insertSQL("INSERT OR IGNORE", table, searchCols, bulkRows)
	})
	if allocs != 0 {
		t.Fatalf("insertSQL of bulkRows rows allocates %.0f times per call once built, want 0", allocs)
	}
}
