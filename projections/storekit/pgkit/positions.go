package pgkit

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/domain/event"
)

// The positions tables (positions of the catalog, history_positions of the
// history) have the columns name, partition and position, with the key (name,
// partition). The helpers below take the table's name, a constant of the caller.

// ReadPositions returns the positions recorded in table under name: the last
// position applied in each partition; partitions that never had an event
// applied are absent.
func ReadPositions(ctx context.Context, q interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}, table, name string) (event.Positions, error) {
	rows, err := q.Query(ctx, `SELECT partition, position FROM `+table+` WHERE name = $1`, name)
	if err != nil {
		return nil, fmt.Errorf("read positions: %w", err)
	}
	defer rows.Close()
	out := event.Positions{}
	for rows.Next() {
		var part int32
		var pos int64
		if err := rows.Scan(&part, &pos); err != nil {
			return nil, fmt.Errorf("read positions: %w", err)
		}
		out[part] = pos
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read positions: %w", err)
	}
	return out, nil
}

// LockPositions takes the transaction-scoped advisory locks (lockClass,
// partition) of the partitions of events, in partition order, so concurrent
// Applies of one partition take turns, and then reads the positions recorded
// in table under name for those partitions. It makes one round trip.
func LockPositions(ctx context.Context, tx pgx.Tx, lockClass int32, table, name string, events []event.Envelope) (event.Positions, error) {
	var parts []int32
	for i := range events {
		if !slices.Contains(parts, events[i].Partition) {
			parts = append(parts, events[i].Partition)
		}
	}
	slices.Sort(parts)
	b := &pgx.Batch{}
	for _, p := range parts {
		b.Queue(`SELECT pg_advisory_xact_lock($1::int4, $2::int4)`, lockClass, p)
	}
	applied := event.Positions{}
	b.Queue(`SELECT partition, position FROM `+table+` WHERE name = $1 AND partition = ANY($2)`, name, parts).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var p int32
				var pos int64
				if err := rows.Scan(&p, &pos); err != nil {
					return err
				}
				applied[p] = pos
			}
			return rows.Err()
		})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("lock and read positions: %w", err)
	}
	return applied, nil
}

// WritePositions records last in table under name, one row per partition.
func WritePositions(ctx context.Context, tx pgx.Tx, table, name string, last event.Positions) error {
	lp := make([]int32, 0, len(last))
	lv := make([]int64, 0, len(last))
	for p, pos := range last {
		lp = append(lp, p)
		lv = append(lv, pos)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO `+table+`(name, partition, position)
		SELECT $1, p, v FROM unnest($2::int4[], $3::int8[]) AS t(p, v)
		ON CONFLICT (name, partition) DO UPDATE SET position = excluded.position`, name, lp, lv); err != nil {
		return fmt.Errorf("write positions: %w", err)
	}
	return nil
}
