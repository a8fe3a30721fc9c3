package sqlitehist

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/history"
)

// versionCols are the columns of history_versions in the order rows are written.
const versionCols = `from_position, key, version, ref, uid, removed, from_time, to_position, to_time, hash,
	event_id, event_type, actor, correlation_id, location_id, managed_by,
	commit_sha, commit_author, commit_email, commit_time, digest, body`

const (
	nVersionCols = 22
	nEventCols   = 5
	// bulkRows is how many rows one multi-row INSERT writes.
	bulkRows = 200
)

// Apply folds the events in one transaction, together with the position of the
// last one. Events at or below the recorded position are skipped; an event of
// a partition other than 0 fails the batch and nothing is written.
func (s *Store) Apply(ctx context.Context, events []event.Envelope) error {
	if len(events) == 0 {
		return nil
	}
	for i := range events {
		if events[i].Partition != 0 {
			return fmt.Errorf("history store: event %s is from partition %d: the SQLite history folds a single-partition log", events[i].ID, events[i].Partition)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("history store: begin: %w", err)
	}
	defer tx.Rollback()
	var applied int64
	if err := tx.QueryRowContext(ctx, `SELECT position FROM history_positions WHERE name = ?`, history.ProjectionName).Scan(&applied); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("history store: read position: %w", err)
	}
	b, err := history.Decode(events, event.Positions{0: applied})
	if err != nil {
		return err
	}
	kept := s.kept.Load()
	if kept {
		b.WithCatalogRows()
	}
	if b.Empty() {
		return nil
	}
	locs, err := loadLocations(ctx, tx, b.LocationIDs())
	if err != nil {
		return fmt.Errorf("history store: read locations: %w", err)
	}
	heads, err := loadHeads(ctx, tx, b.Keys(locs))
	if err != nil {
		return fmt.Errorf("history store: read current versions: %w", err)
	}
	ch, err := b.Fold(heads, locs)
	if err != nil {
		return fmt.Errorf("history store: %w", err)
	}
	if err := write(ctx, tx, ch, heads, kept); err != nil {
		return fmt.Errorf("history store: write: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO history_positions(name, position) VALUES (?, ?)
		ON CONFLICT(name) DO UPDATE SET position = excluded.position`, history.ProjectionName, ch.Last[0]); err != nil {
		return fmt.Errorf("history store: write position: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("history store: commit: %w", err)
	}
	s.wal.AfterCommit(ctx)
	return nil
}

func loadLocations(ctx context.Context, tx *sql.Tx, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	st, err := tx.PrepareContext(ctx, `SELECT entity_key FROM history_locations WHERE id = ?`)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	for _, id := range ids {
		var key string
		err := st.QueryRowContext(ctx, id).Scan(&key)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[id] = key
	}
	return out, nil
}

func loadHeads(ctx context.Context, tx *sql.Tx, keys []string) (map[string]history.Head, error) {
	out := make(map[string]history.Head, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	st, err := tx.PrepareContext(ctx, `SELECT ref, version, uid, hash, removed, from_position, from_time
		FROM history_versions WHERE key = ? ORDER BY version DESC LIMIT 1`)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	for _, k := range keys {
		h := history.Head{Key: k}
		var ns int64
		err := st.QueryRowContext(ctx, k).Scan(&h.Ref, &h.Number, &h.UID, &h.Hash, &h.Removed, &h.From.Position, &ns)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, err
		}
		h.From.Time = fromNanos(ns)
		out[k] = h
	}
	return out, nil
}

// write stores a Change: closes stored versions, inserts the new ones, their
// catalog rows and the event digests, and replaces the touched locations.
// heads are the stored heads the change was folded on; the catalog rows are
// written when kept.
func write(ctx context.Context, tx *sql.Tx, ch history.Change, heads map[string]history.Head, kept bool) error {
	if len(ch.Closed) > 0 {
		st, err := tx.PrepareContext(ctx, `UPDATE history_versions SET to_position = ?, to_time = ? WHERE key = ? AND version = ?`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, c := range ch.Closed {
			if _, err := st.ExecContext(ctx, c.To.Position, c.To.Time.UnixNano(), c.Key, c.Number); err != nil {
				return err
			}
		}
	}
	vals := make([]any, 0, len(ch.New)*nVersionCols)
	for i := range ch.New {
		vals = append(vals, versionRow(&ch.New[i])...)
	}
	if err := insertRows(ctx, tx, "history_versions("+versionCols+")", nVersionCols, vals); err != nil {
		return err
	}
	if kept {
		if err := writeCatalogRows(ctx, tx, ch, heads); err != nil {
			return err
		}
	}
	vals = make([]any, 0, len(ch.Digests)*nEventCols)
	for _, d := range ch.Digests {
		vals = append(vals, d.Position, d.EventID, d.Type, d.Subject, d.Digest)
	}
	if err := insertRows(ctx, tx, "history_events(position, event_id, type, subject, digest)", nEventCols, vals); err != nil {
		return err
	}
	for _, id := range ch.DeleteLocations {
		if _, err := tx.ExecContext(ctx, `DELETE FROM history_locations WHERE id = ?`, id); err != nil {
			return err
		}
	}
	for _, l := range ch.PutLocations {
		if _, err := tx.ExecContext(ctx, `INSERT INTO history_locations(id, entity_key) VALUES (?, ?)`, l.ID, l.Key); err != nil {
			return err
		}
	}
	return nil
}

// versionRow returns the column values of a version, in versionCols' order.
func versionRow(v *history.Version) []any {
	var toPos, toTime, sha, author, email, ctime any
	if v.ValidTo != nil {
		toPos, toTime = v.ValidTo.Position, v.ValidTo.Time.UnixNano()
	}
	if c := v.Commit; c != nil {
		sha, author, email, ctime = c.SHA, c.Author, c.Email, c.Time
	}
	var body any
	if v.Body != nil {
		body = []byte(v.Body)
	}
	return []any{v.ValidFrom.Position, v.Key, v.Number, v.Ref, v.UID, v.Removed, v.ValidFrom.Time.UnixNano(), toPos, toTime, v.Hash,
		v.EventID, v.EventType, v.Actor, v.CorrelationID, v.LocationID, v.ManagedBy,
		sha, author, email, ctime, v.Digest, body}
}

// insertRows writes rows of cols values each (flattened in vals) with
// multi-row INSERTs of up to bulkRows rows.
func insertRows(ctx context.Context, tx *sql.Tx, table string, cols int, vals []any) error {
	return insertRowsVerb(ctx, tx, "INSERT INTO", table, cols, vals)
}

// insertRowsVerb is insertRows with the statement's verb (INSERT INTO, INSERT
// OR IGNORE INTO).
func insertRowsVerb(ctx context.Context, tx *sql.Tx, verb, table string, cols int, vals []any) error {
	var full *sql.Stmt
	for len(vals) > 0 {
		rows := min(len(vals)/cols, bulkRows)
		n := rows * cols
		var err error
		if rows == bulkRows {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, insertSQL(verb, table, cols, rows)); err != nil {
					return err
				}
				defer full.Close()
			}
			_, err = full.ExecContext(ctx, vals[:n]...)
		} else {
			_, err = tx.ExecContext(ctx, insertSQL(verb, table, cols, rows), vals[:n]...)
		}
		if err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		vals = vals[n:]
	}
	return nil
}

func insertSQL(verb, table string, cols, rows int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	var b strings.Builder
	b.WriteString(verb + " " + table + " VALUES ")
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	return b.String()
}
