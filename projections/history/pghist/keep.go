package pghist

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/history"
)

// rowsKept names the flag in history_positions (partition 0) that is 1 once
// the catalog rows of every version are kept.
const rowsKept = "history-catalog-rows"

// rowsLockClass and rowsLockKey name the advisory lock that orders Apply and
// the build of the catalog rows: every Apply holds it shared and reads the
// flag after taking it, the build holds it exclusively, so no Apply commits
// versions without their rows once the build has read the versions.
const (
	rowsLockClass int32 = 0x486c7432 // "Hlt2"
	rowsLockKey   int32 = 0
)

// buildFlushRows is how many pending rows the build writes at once, between
// two entities.
const buildFlushRows = 20000

// catalogRowIndexes are the secondary indexes the catalog at an instant
// reads, made once the rows are in.
var catalogRowIndexes = []string{
	// The entities with a value and the spans they have it: a filter reads
	// its matches valid at an instant from the index alone.
	`CREATE INDEX IF NOT EXISTS history_search_key_value ON history_search(key, value, ent) INCLUDE (from_partition, from_position, to_partition, to_position, from_time, to_time)`,
	`CREATE INDEX IF NOT EXISTS history_relations_type_target ON history_relations(ltype, target)`,
	`CREATE INDEX IF NOT EXISTS history_relations_target ON history_relations(target, lreverse)`,
	`CREATE INDEX IF NOT EXISTS history_versions_uid ON history_versions(uid) WHERE NOT removed`,
}

// keeps reports whether the catalog rows are kept, as the flag in the
// database says (read in q: the pool, or a transaction); once true it stays
// true for this Store.
func (s *Store) keeps(ctx context.Context, q interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}) (bool, error) {
	if s.kept.Load() {
		return true, nil
	}
	var flag int64
	err := q.QueryRow(ctx, `SELECT position FROM history_positions WHERE name = $1 AND partition = 0`, rowsKept).Scan(&flag)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if flag == 1 {
		s.kept.Store(true)
	}
	return flag == 1, nil
}

// KeepCatalogRows builds the catalog rows (history_search,
// history_relations) of every stored version, unless they are kept already,
// and makes every Apply after it keep those of its batch, in this process
// and in any other sharing the database. The rows are built in one
// transaction that holds Applies off for its length: the versions are read
// in key order, each entity's rows become spans from one version to the
// next, they are copied in, and the secondary indexes are made at the end.
// A history that never answers the catalog at an instant never pays for them.
func (s *Store) KeepCatalogRows(ctx context.Context) error {
	start := time.Now()
	n := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, rowsLockClass, rowsLockKey); err != nil {
			return err
		}
		if kept, err := s.keeps(ctx, tx); err != nil || kept {
			return err
		}
		if _, err := tx.Exec(ctx, `TRUNCATE history_search, history_relations`); err != nil {
			return err
		}
		var err error
		if n, err = buildCatalogRows(ctx, tx); err != nil {
			return err
		}
		for _, ix := range catalogRowIndexes {
			if _, err := tx.Exec(ctx, ix); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO history_positions(name, partition, position) VALUES ($1, 0, 1)
			ON CONFLICT (name, partition) DO UPDATE SET position = excluded.position`, rowsKept)
		return err
	})
	if err != nil {
		return fmt.Errorf("history store (postgres): catalog rows: %w", err)
	}
	s.kept.Store(true)
	if n > 0 {
		// The planner's statistics of the new rows, and the visibility map
		// that lets a read answer from an index alone; autovacuum would
		// make both later.
		for _, t := range []string{"history_search", "history_relations", "history_versions"} {
			if _, err := s.pool.Exec(ctx, `VACUUM (ANALYZE) `+t); err != nil {
				slog.Warn("history: vacuum after building the catalog rows", "table", t, "err", err)
			}
		}
		slog.Info("history: catalog rows kept", "versions", n, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// buildInBackground starts KeepCatalogRows in the background, unless the
// rows are kept or being built; Close stops it. A build that fails is not
// tried again by this Store: the catalog at an instant is then built by the
// caller (ErrNoCatalogRows), and the error is logged once.
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
		slog.Error("history: building the catalog rows failed; the catalog at an instant is built instead", "err", err)
	})
}

// buildCatalogRows writes the spans of catalog rows of every version, read
// in key order through a cursor, and returns how many versions it read.
func buildCatalogRows(ctx context.Context, tx pgx.Tx) (int, error) {
	if _, err := tx.Exec(ctx, `DECLARE history_build NO SCROLL CURSOR FOR
		SELECT key, version, uid, hash, removed, from_partition, from_position, from_time, body
		FROM history_versions ORDER BY key, version`); err != nil {
		return 0, err
	}
	type stored struct {
		v    history.Version
		body []byte
	}
	sp := history.NewSpans()
	n, last := 0, ""
	for {
		// A fetch is read whole before spans are written: a connection
		// runs one statement at a time.
		rows, err := tx.Query(ctx, `FETCH 2000 FROM history_build`)
		if err != nil {
			return n, err
		}
		var page []stored
		for rows.Next() {
			var r stored
			var num int32
			var ns int64
			if err := rows.Scan(&r.v.Key, &num, &r.v.UID, &r.v.Hash, &r.v.Removed, &r.v.ValidFrom.Partition, &r.v.ValidFrom.Position, &ns, &r.body); err != nil {
				rows.Close()
				return n, err
			}
			r.v.Number = int(num)
			r.v.ValidFrom.Time = fromNanos(ns)
			page = append(page, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return n, err
		}
		if len(page) == 0 {
			break
		}
		for i := range page {
			v := &page[i].v
			n++
			if v.Key != last && len(sp.NewSearch)+len(sp.NewRelations) >= buildFlushRows {
				if err := writeSpans(ctx, tx, sp); err != nil {
					return n, err
				}
				sp = history.NewSpans()
			}
			last = v.Key
			var er catalogstore.EntityRows
			if !v.Removed {
				if er, err = history.EntityRowsOf(v.Key, v.UID, v.Hash, page[i].body); err != nil {
					return n, err
				}
			}
			sp.Apply(v, &er)
		}
	}
	if _, err := tx.Exec(ctx, `CLOSE history_build`); err != nil {
		return n, err
	}
	return n, writeSpans(ctx, tx, sp)
}
