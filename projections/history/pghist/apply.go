package pghist

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/storekit/pgkit"
)

// positionLockClass is the first key of the per-partition advisory locks
// (pg_advisory_xact_lock(positionLockClass, partition)) that make concurrent
// Applies of one partition take turns.
const positionLockClass int32 = 0x486c7431 // "Hlt1"

// versionCols are the columns of history_versions in the order rows are written.
var versionCols = []string{"from_partition", "from_position", "key", "version", "ref", "uid", "removed", "from_time",
	"to_partition", "to_position", "to_time", "hash", "event_id", "event_type", "actor", "correlation_id",
	"location_id", "managed_by", "commit_sha", "commit_author", "commit_email", "commit_time", "digest", "body"}

// Apply folds the events in one transaction, together with the position of the
// last applied event of each partition. Events at or below their partition's
// recorded position are skipped, so applying a batch twice changes nothing. A
// transaction that fails on a serialization failure, a deadlock or a unique
// key a concurrent transaction took is run again, up to Options.ApplyAttempts
// times; other failures, a server that is down among them, are returned and
// nothing is written.
func (s *Store) Apply(ctx context.Context, events []event.Envelope) error {
	if len(events) == 0 {
		return nil
	}
	return pgkit.RetryTx(ctx, s.pool, s.opts.ApplyAttempts, "history store (postgres)", func(tx pgx.Tx) error {
		return s.applyTx(ctx, tx, events)
	})
}

// applyTx folds the events in tx, with their catalog rows when they are kept.
func (s *Store) applyTx(ctx context.Context, tx pgx.Tx, events []event.Envelope) error {
	// Shared with other Applies, exclusive with the build of the catalog
	// rows (keep.go): the flag read after it holds until the commit.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared($1, $2)`, rowsLockClass, rowsLockKey); err != nil {
		return fmt.Errorf("history store (postgres): %w", err)
	}
	kept, err := s.keeps(ctx, tx)
	if err != nil {
		return fmt.Errorf("history store (postgres): %w", err)
	}
	applied, err := pgkit.LockPositions(ctx, tx, positionLockClass, "history_positions", history.ProjectionName, events)
	if err != nil {
		return fmt.Errorf("history store (postgres): %w", err)
	}

	batch, err := history.Decode(events, applied)
	if err != nil {
		return err
	}
	if kept {
		batch.WithCatalogRows()
	}
	if batch.Empty() {
		return nil
	}
	locs := map[string]string{}
	if ids := batch.LocationIDs(); len(ids) > 0 {
		rows, err := tx.Query(ctx, `SELECT id, entity_key FROM history_locations WHERE id = ANY($1)`, ids)
		if err != nil {
			return fmt.Errorf("history store (postgres): read locations: %w", err)
		}
		var id, key string
		if _, err := pgx.ForEachRow(rows, []any{&id, &key}, func() error { locs[id] = key; return nil }); err != nil {
			return fmt.Errorf("history store (postgres): read locations: %w", err)
		}
	}
	heads, err := loadHeads(ctx, tx, batch.Keys(locs))
	if err != nil {
		return fmt.Errorf("history store (postgres): read current versions: %w", err)
	}
	ch, err := batch.Fold(heads, locs)
	if err != nil {
		return fmt.Errorf("history store (postgres): %w", err)
	}
	if err := write(ctx, tx, ch); err != nil {
		return fmt.Errorf("history store (postgres): write: %w", err)
	}
	if kept {
		if err := writeCatalogRows(ctx, tx, ch, heads); err != nil {
			return fmt.Errorf("history store (postgres): write catalog rows: %w", err)
		}
	}
	if err := pgkit.WritePositions(ctx, tx, "history_positions", history.ProjectionName, ch.Last); err != nil {
		return fmt.Errorf("history store (postgres): %w", err)
	}
	return nil
}

func loadHeads(ctx context.Context, tx pgx.Tx, keys []string) (map[string]history.Head, error) {
	out := make(map[string]history.Head, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := tx.Query(ctx, `SELECT DISTINCT ON (key) key, ref, version, uid, hash, removed, from_partition, from_position, from_time
		FROM history_versions WHERE key = ANY($1) ORDER BY key, version DESC`, keys)
	if err != nil {
		return nil, err
	}
	var h history.Head
	var ns int64
	_, err = pgx.ForEachRow(rows, []any{&h.Key, &h.Ref, &h.Number, &h.UID, &h.Hash, &h.Removed, &h.From.Partition, &h.From.Position, &ns}, func() error {
		h.From.Time = fromNanos(ns)
		out[h.Key] = h
		return nil
	})
	return out, err
}

// write stores a Change: closes stored versions with one UPDATE, copies in the
// new versions and the event digests, and replaces the touched locations.
func write(ctx context.Context, tx pgx.Tx, ch history.Change) error {
	b := &pgx.Batch{}
	if n := len(ch.Closed); n > 0 {
		keys, nums, parts := make([]string, n), make([]int32, n), make([]int32, n)
		poss, times := make([]int64, n), make([]int64, n)
		for i, c := range ch.Closed {
			keys[i], nums[i], parts[i], poss[i], times[i] = c.Key, int32(c.Number), c.To.Partition, c.To.Position, c.To.Time.UnixNano()
		}
		b.Queue(`UPDATE history_versions v SET to_partition = u.p, to_position = u.pos, to_time = u.t
			FROM unnest($1::text[], $2::int4[], $3::int4[], $4::int8[], $5::int8[]) AS u(key, version, p, pos, t)
			WHERE v.key = u.key AND v.version = u.version`, keys, nums, parts, poss, times)
	}
	if len(ch.DeleteLocations) > 0 {
		b.Queue(`DELETE FROM history_locations WHERE id = ANY($1)`, ch.DeleteLocations)
	}
	if n := len(ch.PutLocations); n > 0 {
		ids, keys := make([]string, n), make([]string, n)
		for i, l := range ch.PutLocations {
			ids[i], keys[i] = l.ID, l.Key
		}
		b.Queue(`INSERT INTO history_locations(id, entity_key) SELECT * FROM unnest($1::text[], $2::text[])`, ids, keys)
	}
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
	}
	vrows := make([][]any, len(ch.New))
	for i := range ch.New {
		vrows[i] = versionRow(&ch.New[i])
	}
	erows := make([][]any, len(ch.Digests))
	for i, d := range ch.Digests {
		erows[i] = []any{d.Partition, d.Position, d.EventID, d.Type, d.Subject, d.Digest}
	}
	if err := copyRows(ctx, tx, "history_versions", versionCols, vrows); err != nil {
		return err
	}
	return copyRows(ctx, tx, "history_events", []string{"partition", "position", "event_id", "type", "subject", "digest"}, erows)
}

// versionRow returns the column values of a version, in versionCols' order.
func versionRow(v *history.Version) []any {
	var toPart, toPos, toTime, sha, author, email, ctime any
	if v.ValidTo != nil {
		toPart, toPos, toTime = v.ValidTo.Partition, v.ValidTo.Position, v.ValidTo.Time.UnixNano()
	}
	if c := v.Commit; c != nil {
		sha, author, email, ctime = c.SHA, c.Author, c.Email, c.Time
	}
	var body any
	if v.Body != nil {
		body = []byte(v.Body)
	}
	return []any{v.ValidFrom.Partition, v.ValidFrom.Position, v.Key, int32(v.Number), v.Ref, v.UID, v.Removed, v.ValidFrom.Time.UnixNano(),
		toPart, toPos, toTime, v.Hash, v.EventID, v.EventType, v.Actor, v.CorrelationID,
		v.LocationID, v.ManagedBy, sha, author, email, ctime, v.Digest, body}
}

// copyRows writes rows with COPY, or with one multi-row INSERT when there are
// few: cheaper than COPY's extra round trips for a small change.
func copyRows(ctx context.Context, tx pgx.Tx, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if len(rows) >= 8 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("copy into %s: %w", table, err)
		}
		return nil
	}
	var sb strings.Builder
	sb.WriteString("INSERT INTO " + table + "(" + strings.Join(cols, ", ") + ") VALUES ")
	args := make([]any, 0, len(rows)*len(cols))
	for i, r := range rows {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('(')
		for j, v := range r {
			if j > 0 {
				sb.WriteByte(',')
			}
			args = append(args, v)
			fmt.Fprintf(&sb, "$%d", len(args))
		}
		sb.WriteByte(')')
	}
	if _, err := tx.Exec(ctx, sb.String(), args...); err != nil {
		return fmt.Errorf("insert into %s: %w", table, err)
	}
	return nil
}
