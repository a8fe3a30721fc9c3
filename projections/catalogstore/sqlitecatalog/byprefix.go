package sqlitecatalog

import (
	"context"
	"fmt"
	"strings"

	"backlot.dev/backlot/projections/catalogstore"
)

// ByNamePrefix returns up to limit entities of kind (any kind when empty)
// whose name starts with prefix, ordered by name and key, read as a range of
// the (kind, name) index, or of the (name, key) index for any kind: at most
// limit rows are read, whatever the catalog's size.
func (s *Store) ByNamePrefix(ctx context.Context, kind, prefix string, limit int) ([]catalogstore.EntityView, error) {
	if limit <= 0 {
		return nil, nil
	}
	var where []string
	var args []any
	if kind != "" {
		where = append(where, "kind = ?")
		args = append(args, strings.ToLower(kind))
	}
	prefix = strings.ToLower(prefix)
	if prefix != "" {
		where = append(where, "name >= ?")
		args = append(args, prefix)
		if end, ok := catalogstore.PrefixEnd(prefix); ok {
			where = append(where, "name < ?")
			args = append(args, end)
		}
	}
	stmt := `SELECT key, ref, uid, location_id, body FROM entities`
	if len(where) > 0 {
		stmt += ` WHERE ` + strings.Join(where, " AND ")
	}
	stmt += fmt.Sprintf(` ORDER BY name, key LIMIT %d`, limit)
	rows, err := s.read.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, fmt.Errorf("catalog store: by name prefix: %w", err)
	}
	defer rows.Close()
	var out []catalogstore.EntityView
	for rows.Next() {
		var v catalogstore.EntityView
		if err := rows.Scan(&v.Key, &v.Ref, &v.UID, &v.LocationID, &v.Body); err != nil {
			return nil, fmt.Errorf("catalog store: by name prefix: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog store: by name prefix: %w", err)
	}
	return out, nil
}
