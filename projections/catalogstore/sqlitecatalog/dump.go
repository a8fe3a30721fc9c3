package sqlitecatalog

import (
	"context"
	"database/sql"
	"fmt"
	"io"
)

// dumpQueries list every table of the read model in a stable order.
var dumpQueries = []struct{ name, sql string }{
	{"entities", `SELECT key, eid, ref, uid, kind, namespace, name, hash, location_id, managed_by, body, updated_pos FROM entities ORDER BY key`},
	{"relations", `SELECT origin, source, type, target, target_ref FROM relations ORDER BY origin, source, type, target`},
	{"search", `SELECT eid, key, value, original FROM search ORDER BY eid, key, value`},
	{"locations", `SELECT id, type, target, entity_key, created_pos FROM locations ORDER BY id`},
	{"location_errors", `SELECT location_id, seq, body, entity_key FROM location_errors ORDER BY location_id, seq`},
	{"positions", `SELECT name, position FROM positions ORDER BY name`},
}

// Dump writes every row of the read model in a stable text form, so two read
// models can be compared byte for byte.
func (s *Store) Dump(ctx context.Context, w io.Writer) error {
	for _, q := range dumpQueries {
		if _, err := fmt.Fprintf(w, "## %s\n", q.name); err != nil {
			return err
		}
		if err := dumpRows(ctx, s.read, q.sql, w); err != nil {
			return fmt.Errorf("dump %s: %w", q.name, err)
		}
	}
	return nil
}

func dumpRows(ctx context.Context, db *sql.DB, q string, w io.Writer) error {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			if i > 0 {
				io.WriteString(w, "\t")
			}
			switch t := v.(type) {
			case nil:
				io.WriteString(w, "NULL")
			case []byte:
				fmt.Fprintf(w, "%q", t)
			default:
				fmt.Fprintf(w, "%q", fmt.Sprint(t))
			}
		}
		io.WriteString(w, "\n")
	}
	return rows.Err()
}
