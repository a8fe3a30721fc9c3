package sqlitehist

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/storekit/sqlitekit"
)

// rowsKept names the flag in history_positions that is 1 once the catalog
// rows of every version are kept.
const rowsKept = "history-catalog-rows"

// buildFlushRows is how many pending rows the build writes at once, between
// two entities.
const buildFlushRows = 20000

// catalogRowIndexes are the secondary indexes of the catalog rows, which the
// build drops and makes again once the rows are in.
var catalogRowIndexes = []struct{ name, create string }{
	{"history_search_key_value", `CREATE INDEX history_search_key_value ON history_search(key, value, from_position, to_position, from_time, to_time)`},
	{"history_relations_type_target", `CREATE INDEX history_relations_type_target ON history_relations(ltype, target)`},
	// The relations declared toward an entity, whose reverses are its own.
	{"history_relations_target", `CREATE INDEX history_relations_target ON history_relations(target, lreverse)`},
	// An entity by uid at an instant.
	{"history_versions_uid", `CREATE INDEX history_versions_uid ON history_versions(uid) WHERE removed = 0`},
	// Whether a version is valid at an instant, and its key, without reading
	// its row (and body): what counts and whole-catalog facets of the catalog
	// at an instant test for each candidate version.
	{"history_versions_span", `CREATE INDEX history_versions_span ON history_versions(from_position, removed, to_position, from_time, to_time, key)`},
}

// KeepCatalogRows builds the catalog rows (history_search, history_relations)
// of every stored version, unless they are kept already, and makes Apply keep
// those of every batch after it. The rows are built in one transaction that
// holds the writer: the versions are read in key order, each entity's rows
// become spans from one version to the next, they are written in the order of
// their primary keys, and the secondary indexes are made once at the end. A
// history that never answers the catalog at an instant never pays for them.
// The build ends by starting the write-ahead log over (sqlitewal), waiting
// at most a second for readers; while they keep it from that, each later
// Apply tries again after its commit.
func (s *Store) KeepCatalogRows(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kept.Load() {
		return nil
	}
	start := time.Now()
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("history store: catalog rows: begin: %w", err)
	}
	defer tx.Rollback()
	for _, stmt := range []string{`DELETE FROM history_search`, `DELETE FROM history_relations`} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("history store: catalog rows: %w", err)
		}
	}
	for _, ix := range catalogRowIndexes {
		if _, err := tx.ExecContext(ctx, `DROP INDEX IF EXISTS `+ix.name); err != nil {
			return fmt.Errorf("history store: catalog rows: %w", err)
		}
	}
	n, err := buildCatalogRows(ctx, tx)
	if err != nil {
		return fmt.Errorf("history store: catalog rows: %w", err)
	}
	for _, ix := range catalogRowIndexes {
		if _, err := tx.ExecContext(ctx, ix.create); err != nil {
			return fmt.Errorf("history store: catalog rows: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO history_positions(name, position) VALUES (?, 1)
		ON CONFLICT(name) DO UPDATE SET position = excluded.position`, rowsKept); err != nil {
		return fmt.Errorf("history store: catalog rows: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("history store: catalog rows: commit: %w", err)
	}
	s.kept.Store(true)
	// The rows and their indexes fill the write-ahead log: start it over,
	// or a reader that held the versions before them leaves the whole log
	// to be copied by a later Apply's checkpoint, and the file that size.
	s.wal.AfterLargeWrite(ctx)
	slog.Info("history: catalog rows kept", "versions", n, "took", time.Since(start).Round(time.Millisecond), "log started over", !s.wal.Left())
	return nil
}

// buildInBackground starts KeepCatalogRows in the background, unless the
// rows are kept or being built; Close stops it. A build that fails is not
// tried again by this Store: the catalog at an instant is then built by the
// caller (ErrNoCatalogRows), as before, and the error is logged once.
func (s *Store) buildInBackground() {
	if s.kept.Load() || !s.building.CompareAndSwap(false, true) {
		return
	}
	s.bg.Go(func() {
		err := s.KeepCatalogRows(s.bgCtx)
		if err == nil || s.bgCtx.Err() != nil {
			s.building.Store(false)
			return
		}
		// building stays set: no other build starts.
		slog.Error("history: building the catalog rows failed; the catalog at an instant is built instead", "err", err)
	})
}

// buildCatalogRows writes the spans of catalog rows of every version, read
// in key order, and returns how many versions it read.
func buildCatalogRows(ctx context.Context, tx *sql.Tx) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT key, version, uid, hash, removed, from_position, from_time, body
		FROM history_versions ORDER BY key, version`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	sp := history.NewSpans()
	flush := func() error {
		if err := insertSpans(ctx, tx, sp); err != nil {
			return err
		}
		sp = history.NewSpans()
		return nil
	}
	n, last := 0, ""
	for rows.Next() {
		var v history.Version
		var ns int64
		var body []byte
		if err := rows.Scan(&v.Key, &v.Number, &v.UID, &v.Hash, &v.Removed, &v.ValidFrom.Position, &ns, &body); err != nil {
			return n, err
		}
		v.ValidFrom.Time = fromNanos(ns)
		n++
		if v.Key != last && len(sp.NewSearch)+len(sp.NewRelations) >= buildFlushRows {
			if err := flush(); err != nil {
				return n, err
			}
		}
		last = v.Key
		var er catalogstore.EntityRows
		if !v.Removed {
			if er, err = history.EntityRowsOf(v.Key, v.UID, v.Hash, body); err != nil {
				return n, err
			}
		}
		sp.Apply(&v, &er)
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	rows.Close()
	return n, flush()
}

// KeepsCatalogRows reports whether the history file at path keeps the
// catalog rows of its versions (it has answered a read at an instant), as
// its history_positions records it; a file that does not exist keeps none.
// The file is read as it is, not migrated, so a rebuild can keep the rows
// an old file had.
func KeepsCatalogRows(path string) (bool, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	r, err := sqlitekit.OpenReader(path, sqlitekit.Options{}, 1)
	if err != nil {
		return false, fmt.Errorf("history store %s: %w", path, err)
	}
	defer r.Close()
	var flag int64
	err = r.QueryRow(`SELECT position FROM history_positions WHERE name = ?`, rowsKept).Scan(&flag)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil && strings.Contains(err.Error(), "no such table"):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("history store %s: %w", path, err)
	}
	return flag == 1, nil
}
