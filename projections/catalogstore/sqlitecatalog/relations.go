package sqlitecatalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"backlot.dev/backlot/projections/catalogstore"
)

// The statements of a page's relations take their lists as one JSON array
// (json_each), so each has one text whatever the page's size: it is
// prepared once on the read pool (readStmt) instead of parsed again for
// every chunk of every page, as the lists of 500 placeholders were.
const (
	// declaredInRange reads the relations declared by the entities whose
	// row ids are in a range, one row per entity (declaredOf).
	declaredInRange = `SELECT origin, ` + declaredOf + ` FROM relations WHERE origin BETWEEN ? AND ? GROUP BY origin`
	// declaredInList reads the relations declared by a JSON array of row
	// ids, each looked up in the relations table's primary key, one row per
	// entity (declaredOf).
	declaredInList = `SELECT origin, ` + declaredOf + ` FROM relations WHERE origin IN (SELECT value FROM json_each(?)) GROUP BY origin`
	// declaredOf packs the relations an entity declares into one text
	// (splitRelations reads it back): for each, the byte lengths of its type
	// and target ref, then the two. The rows of the primary key come grouped
	// by origin, so the grouping needs no sort. A row per entity instead of
	// one per relation: the driver's cost of a row and of each of its
	// columns (a string each) was half of the CPU of reading relations.
	declaredOf = `group_concat(octet_length(type) || ',' || octet_length(target_ref) || ',' || type || target_ref, '')`
	// statusOfKeys reads the processing errors of a JSON array of entity
	// keys: those of each entity's file, and those of the location it
	// registered, if any.
	statusOfKeys = `SELECT entity_key, body FROM location_errors WHERE entity_key IN (SELECT value FROM json_each(?1))
		UNION ALL SELECT l.entity_key, le.body FROM location_errors le JOIN locations l ON l.id = le.location_id
		WHERE l.entity_key IN (SELECT value FROM json_each(?1)) AND le.entity_key <> l.entity_key`
)

// reverseOfKeys renders the read of the relations toward a JSON array of
// entity keys, in key order: each row is the key's index in the array, the
// relation's reverse type and its origin's ref (originRefs). With
// relations_target, each key is looked up in it. During a live bulk load,
// each bucket of relations_target_bulk (byTarget) is searched for every key
// in turn, so the keys' searches in one bucket follow each other through
// the same pages: searching each key in every bucket in turn cost about a
// half more CPU (2,000 keys in 25 buckets).
func (s *Store) reverseOfKeys() string {
	const cols = `SELECT j.key, r.reverse, o.ref FROM `
	if !s.targetBuckets.Load() {
		return cols + `json_each(?) j CROSS JOIN relations r ON r.target = j.value CROSS JOIN ` + originRefs + ` ON o.eid = r.origin`
	}
	return targetBucketsWith + cols + `target_buckets t CROSS JOIN json_each(?) j CROSS JOIN relations r ON (r.origin >> ` +
		strconv.Itoa(targetBucketBits) + `) = t.b AND r.target = j.value CROSS JOIN ` + originRefs + ` ON o.eid = r.origin`
}

// originRefs is the entities o read for the refs of relations' origins
// (o.ref by o.eid): through entities_eid_ref (migration 0006), narrow,
// rather than the table's rows, which carry the bodies. The planner, left
// to itself, looks row ids up in the table.
const originRefs = `entities o INDEXED BY entities_eid_ref`

// readStmt returns query prepared on the read pool, prepared on its first
// use and kept until Close (database/sql prepares it again on each
// connection that runs it). It is for statements of a fixed text only.
func (s *Store) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	s.readStmtsMu.Lock()
	defer s.readStmtsMu.Unlock()
	if st := s.readStmts[query]; st != nil {
		return st, nil
	}
	st, err := s.read.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if s.readStmts == nil {
		s.readStmts = map[string]*sql.Stmt{}
	}
	s.readStmts[query] = st
	return st, nil
}

// queryRead runs a statement of a fixed text on the read pool, prepared once
// (readStmt).
func (s *Store) queryRead(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := s.readStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// declaredRelations adds to each view the relations its entity declares
// (eids[i] is the row id of views[i]). The relations table's primary key
// starts with the declaring entity's row id, so the relations of a page read
// in creation order, whose ids are close together, are one range of it: they
// are read in one range scan, and those of entities outside the page in the
// range skipped. Ids far apart (a page in key order) are looked up in one
// list, in the order of the ids.
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
	var rows *sql.Rows
	var err error
	if lo, hi := ids[0], ids[len(ids)-1]; hi-lo < 2*int64(len(ids)) {
		rows, err = s.queryRead(ctx, declaredInRange, lo, hi)
	} else {
		list := make([]byte, 0, 8*len(ids)+2)
		list = append(list, '[')
		for i, id := range ids {
			if i > 0 {
				list = append(list, ',')
			}
			list = strconv.AppendInt(list, id, 10)
		}
		rows, err = s.queryRead(ctx, declaredInList, string(append(list, ']')))
	}
	if err != nil {
		return fmt.Errorf("catalog store: relations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var origin int64
		var packed string
		if err := rows.Scan(&origin, &packed); err != nil {
			return fmt.Errorf("catalog store: relations: %w", err)
		}
		if v := byID[origin]; v != nil {
			if v.Relations, err = splitRelations(v.Relations, packed); err != nil {
				return fmt.Errorf("catalog store: relations of row %d: %w", origin, err)
			}
		}
	}
	return rows.Err()
}

// splitRelations appends to rels the relations packed in one text by
// declaredOf. Their types and target refs are substrings of packed.
func splitRelations(rels []catalogstore.Relation, packed string) ([]catalogstore.Relation, error) {
	for packed != "" {
		lt, rest, ok1 := cutLength(packed)
		lr, rest, ok2 := cutLength(rest)
		if !ok1 || !ok2 || lt+lr > len(rest) {
			return rels, fmt.Errorf("malformed relations %q", packed)
		}
		rels = append(rels, catalogstore.Relation{Type: rest[:lt], TargetRef: rest[lt : lt+lr]})
		packed = rest[lt+lr:]
	}
	return rels, nil
}

// cutLength reads the decimal length and its comma at the start of s.
func cutLength(s string) (n int, rest string, ok bool) {
	i := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int(s[i]-'0')
	}
	if i == 0 || i == len(s) || s[i] != ',' {
		return 0, s, false
	}
	return n, s[i+1:], true
}

// reverseRelations adds to views[i], for each i, the reverses of the
// relations declared toward keys[i], in one statement (reverseOfKeys);
// keys are in order.
func (s *Store) reverseRelations(ctx context.Context, keys []string, views []*catalogstore.EntityView) error {
	list, err := json.Marshal(keys)
	if err != nil {
		return err
	}
	rows, err := s.queryRead(ctx, s.reverseOfKeys(), string(list))
	if err != nil {
		return fmt.Errorf("catalog store: reverse relations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var i int
		var r catalogstore.Relation
		if err := rows.Scan(&i, &r.Type, &r.TargetRef); err != nil {
			return fmt.Errorf("catalog store: reverse relations: %w", err)
		}
		if i < 0 || i >= len(views) {
			return fmt.Errorf("catalog store: reverse relations: index %d of %d keys", i, len(keys))
		}
		views[i].Relations = append(views[i].Relations, r)
	}
	return rows.Err()
}
