package sqlitecatalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"backlot.dev/backlot/projections/catalogstore"
)

// ByKeyCapped returns the entity with key with at most perType of its
// relations of each type and how many it has of each
// (catalogstore.CappedReader): the entity, the relations it declares (all),
// each reverse type's count (from relations_target alone, or its buckets
// during a live bulk load) and that type's first perType rows, the reverse
// relations that may repeat a declared one, and its status.
func (s *Store) ByKeyCapped(ctx context.Context, key string, perType int) (*catalogstore.EntityView, map[string]int, error) {
	v, counts, err := s.byKeyCapped(ctx, strings.ToLower(key), perType)
	if err != nil {
		return nil, nil, fmt.Errorf("catalog store: %s with its relations capped: %w", key, err)
	}
	return v, counts, nil
}

func (s *Store) byKeyCapped(ctx context.Context, key string, perType int) (*catalogstore.EntityView, map[string]int, error) {
	v := &catalogstore.EntityView{}
	var eid int64
	err := s.read.QueryRowContext(ctx, `SELECT key, ref, uid, location_id, body, eid FROM entities WHERE key = ?`, key).
		Scan(&v.Key, &v.Ref, &v.UID, &v.LocationID, &v.Body, &eid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	// scan reads rows of two text columns into out.
	scan := func(out *[]catalogstore.Relation, query string, args ...any) error {
		rows, err := s.read.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r catalogstore.Relation
			if err := rows.Scan(&r.Type, &r.TargetRef); err != nil {
				return err
			}
			*out = append(*out, r)
		}
		return rows.Err()
	}
	if err := scan(&v.Relations, `SELECT type, target_ref FROM relations WHERE origin = ?`, eid); err != nil {
		return nil, nil, err
	}
	sample := catalogstore.ReverseSample{Counts: map[string]int{}}
	with, where := s.byTarget(`r.target = ?`)
	rows, err := s.read.QueryContext(ctx, with+`SELECT r.lreverse, count(*) FROM relations r WHERE `+where+` GROUP BY r.lreverse`, key)
	if err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		var l string
		var n int
		if err := rows.Scan(&l, &n); err != nil {
			rows.Close()
			return nil, nil, err
		}
		sample.Counts[l] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	for l := range sample.Counts {
		with, where := s.byTarget(`r.target = ? AND r.lreverse = ?`)
		if err := scan(&sample.Rows, with+`SELECT r.reverse, o.ref FROM relations r CROSS JOIN `+originRefs+` ON o.eid = r.origin
			WHERE `+where+` LIMIT ?`, key, l, perType); err != nil {
			return nil, nil, err
		}
	}
	if len(v.Relations) > 0 {
		if err := scan(&sample.Declared, `SELECT r.reverse, t.key FROM relations d JOIN entities t ON t.key = d.target
			JOIN relations r ON r.origin = t.eid AND r.target = ? WHERE d.origin = ?`, key, eid); err != nil {
			return nil, nil, err
		}
	}
	if err := s.statusItems(ctx, []string{key}, map[string]*catalogstore.EntityView{key: v}); err != nil {
		return nil, nil, err
	}
	return v, catalogstore.CapRelations(v, sample, perType), nil
}
