package sqlitekit_test

import (
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"backlot.dev/backlot/projections/storekit/sqlitekit"
)

func TestDSNEscapesPathAndPragmas(t *testing.T) {
	t.Parallel()
	got := sqlitekit.DSN("/data/a?b#c%d.db", "busy_timeout(10000)", "journal_mode(WAL)")
	want := "file:/data/a%3Fb%23c%25d.db?_pragma=busy_timeout%2810000%29&_pragma=journal_mode%28WAL%29"
	if got != want {
		t.Fatalf("DSN = %s, want %s", got, want)
	}
}

// TestOpenMigratesOnceInWALMode opens a file whose name holds URI characters,
// applies a migration, and opens it again: the file is where the name says,
// in WAL mode, migrated once, and readers cannot write.
func TestOpenMigratesOnceInWALMode(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "odd ?#% name.db")
	migs := fstest.MapFS{"m/0001_t.sql": {Data: []byte("-- a table; with a semicolon in a comment\nCREATE TABLE t (x INTEGER);\nINSERT INTO t VALUES (1);")}}
	for range 2 {
		w, r, err := sqlitekit.Open(path, sqlitekit.Options{Migrations: migs, MigrationGlob: "m/*.sql", VersionPrefix: "test/"})
		if err != nil {
			t.Fatal(err)
		}
		var mode string
		if err := w.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("journal_mode = %q (%v), want wal", mode, err)
		}
		var n int
		if err := r.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil || n != 1 {
			t.Errorf("rows = %d (%v), want 1: the migration ran once", n, err)
		}
		if _, err := r.Exec(`INSERT INTO t VALUES (2)`); err == nil {
			t.Error("a reader wrote")
		}
		w.Close()
		r.Close()
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the file is not where its name says: %v", err)
	}
}

// TestOpenSizesPageCaches checks the page cache of the writer and of every
// reader: the writer's as set, each reader's DefaultReadCacheKiB unless set.
func TestOpenSizesPageCaches(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name              string
		opts              sqlitekit.Options
		wantWrite, wantRd int
	}{
		{"defaults", sqlitekit.Options{}, sqlitekit.DefaultCacheKiB, sqlitekit.DefaultReadCacheKiB},
		{"set", sqlitekit.Options{CacheKiB: 8192, ReadCacheKiB: 512}, 8192, 512},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.opts.Migrations, c.opts.MigrationGlob = fstest.MapFS{}, "m/*.sql"
			w, r, err := sqlitekit.Open(filepath.Join(t.TempDir(), "c.db"), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			defer r.Close()
			var got int
			if err := w.QueryRow(`PRAGMA cache_size`).Scan(&got); err != nil || got != -c.wantWrite {
				t.Errorf("writer cache_size = %d (%v), want %d", got, err, -c.wantWrite)
			}
			if err := r.QueryRow(`PRAGMA cache_size`).Scan(&got); err != nil || got != -c.wantRd {
				t.Errorf("reader cache_size = %d (%v), want %d", got, err, -c.wantRd)
			}
		})
	}
}

// TestOpenReaderIsASeparateReadOnlyPool: a second pool of the size asked,
// which reads what the writer committed and cannot write.
func TestOpenReaderIsASeparateReadOnlyPool(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.db")
	opts := sqlitekit.Options{Migrations: fstest.MapFS{"m/0001.sql": {Data: []byte("CREATE TABLE t (x INTEGER)")}}, MigrationGlob: "m/*.sql"}
	w, r, err := sqlitekit.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	defer r.Close()
	d, err := sqlitekit.OpenReader(path, opts, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got := d.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("MaxOpenConnections = %d, want 1", got)
	}
	if _, err := w.Exec(`INSERT INTO t VALUES (7)`); err != nil {
		t.Fatal(err)
	}
	var x int
	if err := d.QueryRow(`SELECT x FROM t`).Scan(&x); err != nil || x != 7 {
		t.Errorf("read %d (%v), want the committed 7", x, err)
	}
	if _, err := d.Exec(`INSERT INTO t VALUES (8)`); err == nil {
		t.Error("the reader pool wrote")
	}
}
