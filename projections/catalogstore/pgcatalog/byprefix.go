package pgcatalog

import (
	"context"
	"fmt"
	"strings"

	"backlot.dev/backlot/projections/catalogstore"
)

// ByNamePrefix returns up to limit entities of kind (any kind when empty)
// whose name starts with prefix, ordered by name and key, read as a range of
// entities_kind_name, or of entities_name_key for any kind (names are in the
// "C" collation, so the range is byte order): at most limit rows are read,
// whatever the catalog's size.
func (s *Store) ByNamePrefix(ctx context.Context, kind, prefix string, limit int) ([]catalogstore.EntityView, error) {
	if limit <= 0 {
		return nil, nil
	}
	stmt, args := prefixStatement(kind, prefix, limit)
	rows, err := s.pool.Query(ctx, stmt, args...)
	if err != nil {
		return nil, fmt.Errorf("catalog store (postgres): by name prefix: %w", err)
	}
	defer rows.Close()
	var out []catalogstore.EntityView
	for rows.Next() {
		var v catalogstore.EntityView
		if err := rows.Scan(&v.Key, &v.Ref, &v.UID, &v.LocationID, &v.Body); err != nil {
			return nil, fmt.Errorf("catalog store (postgres): by name prefix: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog store (postgres): by name prefix: %w", err)
	}
	return out, nil
}

// prefixStatement is ByNamePrefix's statement and its arguments.
func prefixStatement(kind, prefix string, limit int) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if kind != "" {
		add("kind = $%d", strings.ToLower(kind))
	}
	prefix = strings.ToLower(prefix)
	if prefix != "" {
		add("name >= $%d", prefix)
		if end, ok := catalogstore.PrefixEnd(prefix); ok {
			add("name < $%d", end)
		}
	}
	stmt := `SELECT key, ref, uid, location_id, body FROM entities`
	if len(where) > 0 {
		stmt += ` WHERE ` + strings.Join(where, " AND ")
	}
	return stmt + fmt.Sprintf(` ORDER BY name, key LIMIT %d`, limit), args
}
