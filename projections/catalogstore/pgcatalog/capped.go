package pgcatalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/projections/catalogstore"
)

// ByKeyCapped returns the entity with key with at most perType of its
// relations of each type and how many it has of each
// (catalogstore.CappedReader), in one round trip: the entity, the
// relations it declares (all), each reverse type's count (an index-only
// count of relations_target) with that type's first perType rows, the
// reverse relations that may repeat a declared one, and its status.
func (s *Store) ByKeyCapped(ctx context.Context, key string, perType int) (*catalogstore.EntityView, map[string]int, error) {
	key = strings.ToLower(key)
	v := &catalogstore.EntityView{}
	found := false
	var sample catalogstore.ReverseSample
	sample.Counts = map[string]int{}
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		b := &pgx.Batch{}
		b.Queue(`SELECT key, ref, uid, location_id, body FROM entities WHERE key = $1`, key).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				found = true
				if err := rows.Scan(&v.Key, &v.Ref, &v.UID, &v.LocationID, &v.Body); err != nil {
					return err
				}
			}
			return rows.Err()
		})
		b.Queue(`SELECT r.type, r.target_ref FROM entities e JOIN relations r ON r.origin = e.eid WHERE e.key = $1`, key).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var r catalogstore.Relation
				if err := rows.Scan(&r.Type, &r.TargetRef); err != nil {
					return err
				}
				v.Relations = append(v.Relations, r)
			}
			return rows.Err()
		})
		b.Queue(`WITH c AS (SELECT lreverse, count(*) AS n FROM relations WHERE target = $1 GROUP BY lreverse)
			SELECT c.lreverse, c.n, x.reverse, o.ref FROM c
				CROSS JOIN LATERAL (SELECT r.reverse, r.origin FROM relations r WHERE r.target = $1 AND r.lreverse = c.lreverse
					LIMIT $2) x
				JOIN entities o ON o.eid = x.origin`, key, perType).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var l string
				var n int
				var r catalogstore.Relation
				if err := rows.Scan(&l, &n, &r.Type, &r.TargetRef); err != nil {
					return err
				}
				sample.Counts[l] = n
				sample.Rows = append(sample.Rows, r)
			}
			return rows.Err()
		})
		b.Queue(`SELECT r.reverse, t.key FROM entities e JOIN relations d ON d.origin = e.eid
				JOIN entities t ON t.key = d.target
				JOIN relations r ON r.origin = t.eid AND r.target = $1
			WHERE e.key = $1`, key).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var r catalogstore.Relation
				if err := rows.Scan(&r.Type, &r.TargetRef); err != nil {
					return err
				}
				sample.Declared = append(sample.Declared, r)
			}
			return rows.Err()
		})
		queueStatus(b, []string{key}, map[string]*catalogstore.EntityView{key: v})
		return conn.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return nil, nil, fmt.Errorf("catalog store (postgres): %s with its relations capped: %w", key, err)
	}
	if !found {
		return nil, nil, nil
	}
	return v, catalogstore.CapRelations(v, sample, perType), nil
}
