package sqlitecatalog

import (
	"context"
	"fmt"
	"slices"

	"backlot.dev/backlot/projections/catalogstore"
)

// declaredRelations adds to each view the relations its entity declares
// (eids[i] is the row id of views[i]). The relations table's primary key
// starts with the declaring entity's row id, so the relations of a page read
// in creation order, whose ids are close together, are one range of it: they
// are read in one range scan, and those of entities outside the page in the
// range skipped. Ids far apart are looked up in lists instead.
func (s *Store) declaredRelations(ctx context.Context, views []*catalogstore.EntityView, eids []int64) error {
	byID := make(map[int64]*catalogstore.EntityView, len(views))
	ids := make([]int64, 0, len(views))
	for i, v := range views {
		if v == nil {
			continue
		}
		if _, dup := byID[eids[i]]; !dup {
			ids = append(ids, eids[i])
		}
		byID[eids[i]] = v
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	scan := func(query string, args ...any) error {
		rows, err := s.read.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("catalog store: relations: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var origin int64
			var r catalogstore.Relation
			if err := rows.Scan(&origin, &r.Type, &r.TargetRef); err != nil {
				return err
			}
			if v := byID[origin]; v != nil {
				v.Relations = append(v.Relations, r)
			}
		}
		return rows.Err()
	}
	lo, hi := ids[0], ids[len(ids)-1]
	if hi-lo < 2*int64(len(ids)) {
		return scan(`SELECT origin, type, target_ref FROM relations WHERE origin BETWEEN ? AND ?`, lo, hi)
	}
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		if err := scan(`SELECT origin, type, target_ref FROM relations WHERE origin IN (`+placeholders(len(part))+`)`, args...); err != nil {
			return err
		}
	}
	return nil
}
