package pghist

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/history"
)

// selectVersions selects versionCols of history_versions v.
var selectVersions = "SELECT v." + strings.Join(versionCols, ", v.") + " FROM history_versions v"

// Versions returns up to limit versions of key numbered above after, in order.
func (s *Store) Versions(ctx context.Context, key string, after, limit int) ([]history.Version, error) {
	return s.versions(ctx, "versions of "+key, selectVersions+` WHERE key = $1 AND version > $2 ORDER BY version LIMIT $3`, key, after, sqlLimit(limit))
}

// Version returns version n of key, or history.ErrNotFound.
func (s *Store) Version(ctx context.Context, key string, n int) (history.Version, error) {
	vs, err := s.versions(ctx, fmt.Sprintf("version %d of %s", n, key), selectVersions+` WHERE key = $1 AND version = $2`, key, n)
	if err != nil {
		return history.Version{}, err
	}
	if len(vs) == 0 {
		return history.Version{}, fmt.Errorf("history store (postgres): version %d of %s: %w", n, key, history.ErrNotFound)
	}
	return vs[0], nil
}

// Current returns the entities that existed at the instant, in key order. A
// positions instant counts a partition it does not name as position 0.
func (s *Store) Current(ctx context.Context, at history.Instant, after string, limit int) ([]history.Version, error) {
	if p, ok := at.Positions(); ok {
		parts := make([]int32, 0, len(p))
		poss := make([]int64, 0, len(p))
		for part, pos := range p {
			parts = append(parts, part)
			poss = append(poss, pos)
		}
		return s.versions(ctx, "catalog at "+at.String(), selectVersions+`
			JOIN unnest($2::int4[], $3::int8[]) AS f(part, pos) ON f.part = v.from_partition
			LEFT JOIN unnest($2::int4[], $3::int8[]) AS t(part, pos) ON t.part = v.to_partition
			WHERE NOT v.removed AND v.key > $1 AND v.from_position <= f.pos
			AND (v.to_position IS NULL OR v.to_position > coalesce(t.pos, 0))
			ORDER BY v.key LIMIT $4`, after, parts, poss, sqlLimit(limit))
	}
	t, _ := at.Time()
	return s.versions(ctx, "catalog at "+at.String(), selectVersions+`
		WHERE NOT v.removed AND v.key > $1 AND v.from_time <= $2 AND (v.to_time IS NULL OR v.to_time > $2)
		ORDER BY v.key LIMIT $3`, after, t.UnixNano(), sqlLimit(limit))
}

// Changes returns up to limit versions made after the position, in log order.
func (s *Store) Changes(ctx context.Context, after history.Pos, limit int) ([]history.Version, error) {
	return s.versions(ctx, "changes", selectVersions+` WHERE (from_partition, from_position) > ($1, $2)
		ORDER BY from_partition, from_position LIMIT $3`, after.Partition, after.Position, sqlLimit(limit))
}

// Digests returns up to limit applied events after the position, in log order.
func (s *Store) Digests(ctx context.Context, after history.Pos, limit int) ([]history.EventDigest, error) {
	rows, err := s.pool.Query(ctx, `SELECT partition, position, event_id, type, subject, digest FROM history_events
		WHERE (partition, position) > ($1, $2) ORDER BY partition, position LIMIT $3`, after.Partition, after.Position, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("history store (postgres): digests: %w", err)
	}
	var out []history.EventDigest
	var d history.EventDigest
	if _, err := pgx.ForEachRow(rows, []any{&d.Partition, &d.Position, &d.EventID, &d.Type, &d.Subject, &d.Digest}, func() error {
		out = append(out, d)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("history store (postgres): digests: %w", err)
	}
	return out, nil
}

// sqlLimit turns "zero or less means all" into LIMIT NULL.
func sqlLimit(limit int) *int64 {
	if limit <= 0 {
		return nil
	}
	l := int64(limit)
	return &l
}

func (s *Store) versions(ctx context.Context, what, query string, args ...any) ([]history.Version, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("history store (postgres): %s: %w", what, err)
	}
	var out []history.Version
	var v history.Version
	var num int32
	var fromNs int64
	var toPart *int32
	var toPos, toNs *int64
	var sha, author, email, ctime *string
	var body []byte
	_, err = pgx.ForEachRow(rows, []any{&v.ValidFrom.Partition, &v.ValidFrom.Position, &v.Key, &num, &v.Ref, &v.UID, &v.Removed, &fromNs,
		&toPart, &toPos, &toNs, &v.Hash, &v.EventID, &v.EventType, &v.Actor, &v.CorrelationID,
		&v.LocationID, &v.ManagedBy, &sha, &author, &email, &ctime, &v.Digest, &body}, func() error {
		r := v
		r.Number = int(num)
		r.ValidFrom.Time = fromNanos(fromNs)
		if toPos != nil {
			r.ValidTo = &history.Mark{Pos: history.Pos{Partition: *toPart, Position: *toPos}, Time: fromNanos(*toNs)}
		}
		if sha != nil {
			r.Commit = &event.Commit{SHA: *sha, Author: deref(author), Email: deref(email), Time: deref(ctime)}
		}
		if body != nil {
			r.Body = json.RawMessage(append([]byte(nil), body...))
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("history store (postgres): %s: %w", what, err)
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func fromNanos(ns int64) time.Time { return time.Unix(0, ns).UTC() }
