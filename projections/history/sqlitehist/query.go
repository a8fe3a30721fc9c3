package sqlitehist

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/history"
)

// Versions returns up to limit versions of key numbered above after, in order.
func (s *Store) Versions(ctx context.Context, key string, after, limit int) ([]history.Version, error) {
	return s.versions(ctx, "versions of "+key, `SELECT `+versionCols+` FROM history_versions
		WHERE key = ? AND version > ? ORDER BY version LIMIT ?`, key, after, sqlLimit(limit))
}

// Version returns version n of key, or history.ErrNotFound.
func (s *Store) Version(ctx context.Context, key string, n int) (history.Version, error) {
	vs, err := s.versions(ctx, fmt.Sprintf("version %d of %s", n, key), `SELECT `+versionCols+` FROM history_versions
		WHERE key = ? AND version = ?`, key, n)
	if err != nil {
		return history.Version{}, err
	}
	if len(vs) == 0 {
		return history.Version{}, fmt.Errorf("history store: version %d of %s: %w", n, key, history.ErrNotFound)
	}
	return vs[0], nil
}

// Current returns the entities that existed at the instant, in key order.
// A positions instant reads partition 0's position.
func (s *Store) Current(ctx context.Context, at history.Instant, after string, limit int) ([]history.Version, error) {
	if p, ok := at.Positions(); ok {
		return s.versions(ctx, "catalog at "+at.String(), `SELECT `+versionCols+` FROM history_versions INDEXED BY history_versions_at_position
			WHERE removed = 0 AND key > ?1 AND from_position <= ?2 AND (to_position IS NULL OR to_position > ?2)
			ORDER BY key LIMIT ?3`, after, p[0], sqlLimit(limit))
	}
	t, _ := at.Time()
	return s.versions(ctx, "catalog at "+at.String(), `SELECT `+versionCols+` FROM history_versions INDEXED BY history_versions_at_time
		WHERE removed = 0 AND key > ?1 AND from_time <= ?2 AND (to_time IS NULL OR to_time > ?2)
		ORDER BY key LIMIT ?3`, after, t.UnixNano(), sqlLimit(limit))
}

// Changes returns up to limit versions made after the position, in log order.
func (s *Store) Changes(ctx context.Context, after history.Pos, limit int) ([]history.Version, error) {
	if after.Partition > 0 {
		return nil, nil
	}
	return s.versions(ctx, "changes", `SELECT `+versionCols+` FROM history_versions
		WHERE from_position > ? ORDER BY from_position LIMIT ?`, after.Position, sqlLimit(limit))
}

// Digests returns up to limit applied events after the position, in log order.
func (s *Store) Digests(ctx context.Context, after history.Pos, limit int) ([]history.EventDigest, error) {
	if after.Partition > 0 {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx, `SELECT position, event_id, type, subject, digest FROM history_events
		WHERE position > ? ORDER BY position LIMIT ?`, after.Position, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("history store: digests: %w", err)
	}
	defer rows.Close()
	var out []history.EventDigest
	for rows.Next() {
		var d history.EventDigest
		if err := rows.Scan(&d.Position, &d.EventID, &d.Type, &d.Subject, &d.Digest); err != nil {
			return nil, fmt.Errorf("history store: digests: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history store: digests: %w", err)
	}
	return out, nil
}

// sqlLimit turns "zero or less means all" into SQLite's LIMIT -1.
func sqlLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}

func (s *Store) versions(ctx context.Context, what, query string, args ...any) ([]history.Version, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("history store: %s: %w", what, err)
	}
	defer rows.Close()
	var out []history.Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("history store: %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history store: %s: %w", what, err)
	}
	return out, nil
}

func scanVersion(rows *sql.Rows) (history.Version, error) {
	var v history.Version
	var fromNs int64
	var toPos, toNs sql.NullInt64
	var sha, author, email, ctime sql.NullString
	var body []byte
	if err := rows.Scan(&v.ValidFrom.Position, &v.Key, &v.Number, &v.Ref, &v.UID, &v.Removed, &fromNs, &toPos, &toNs, &v.Hash,
		&v.EventID, &v.EventType, &v.Actor, &v.CorrelationID, &v.LocationID, &v.ManagedBy,
		&sha, &author, &email, &ctime, &v.Digest, &body); err != nil {
		return v, err
	}
	v.ValidFrom.Time = fromNanos(fromNs)
	if toPos.Valid {
		v.ValidTo = &history.Mark{Pos: history.Pos{Position: toPos.Int64}, Time: fromNanos(toNs.Int64)}
	}
	if sha.Valid {
		v.Commit = &event.Commit{SHA: sha.String, Author: author.String, Email: email.String, Time: ctime.String}
	}
	if body != nil {
		v.Body = json.RawMessage(body)
	}
	return v, nil
}

func fromNanos(ns int64) time.Time { return time.Unix(0, ns).UTC() }
