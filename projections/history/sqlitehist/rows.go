package sqlitehist

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/history"
)

const (
	nSearchCols   = 8
	nRelationCols = 10
	// stored marks a current row that is in the file, not among this batch's inserts.
	stored = -1
)

// searchID and relationID identify a current row of an entity.
type (
	searchID   struct{ key, value string }
	relationID struct{ source, ltype, target string }
)

// searchCur and relationCur are a current row of an entity: what else makes
// it, and where it is (stored, or the index of its pending insert).
type (
	searchCur struct {
		original *string
		ins      int
	}
	relationCur struct {
		typ, targetRef string
		ins            int
	}
)

// entityRows are the current catalog rows of one entity while a batch is written.
type entityRows struct {
	search map[searchID]searchCur
	rels   map[relationID]relationCur
}

// spanWriter turns the versions of a Change into spans of catalog rows: each
// version's rows are compared with the entity's current ones, rows it no
// longer has are closed at its position and rows it adds are opened there,
// so an edit writes only what it changes.
type spanWriter struct {
	cur map[string]*entityRows
	// search and rels are the pending inserts, flattened in column order.
	search, rels []any
	// closeSearch and closeRels are the stored rows to close, flattened in
	// the order of the UPDATE statements' arguments.
	closeSearch, closeRels []any
}

func newSpanWriter() *spanWriter {
	return &spanWriter{cur: map[string]*entityRows{}}
}

// entity returns the current rows of key, empty when first asked.
func (w *spanWriter) entity(key string) *entityRows {
	cur := w.cur[key]
	if cur == nil {
		cur = &entityRows{search: map[searchID]searchCur{}, rels: map[relationID]relationCur{}}
		w.cur[key] = cur
	}
	return cur
}

// writeCatalogRows stores the catalog rows of the new versions of ch as
// spans: the rows of each entity's stored head (heads, computed again from
// its body) are its current rows before the batch.
func writeCatalogRows(ctx context.Context, tx *sql.Tx, ch history.Change, heads map[string]history.Head) error {
	if len(ch.Rows) != len(ch.New) {
		return errors.New("history store: the change holds no catalog rows")
	}
	w := newSpanWriter()
	var body *sql.Stmt
	for i := range ch.New {
		v := &ch.New[i]
		cur, seen := w.cur[v.Key]
		if !seen {
			cur = w.entity(v.Key)
			if h, ok := heads[v.Key]; ok && !h.Removed {
				if body == nil {
					var err error
					if body, err = tx.PrepareContext(ctx, `SELECT body FROM history_versions WHERE key = ? AND version = ?`); err != nil {
						return err
					}
					defer body.Close()
				}
				if err := loadCurrent(ctx, body, h, cur); err != nil {
					return err
				}
			}
		}
		w.apply(v, cur, &ch.Rows[i])
	}
	return w.insert(ctx, tx)
}

// insert closes the stored rows w closed and inserts the rows it opened.
func (w *spanWriter) insert(ctx context.Context, tx *sql.Tx) error {
	if len(w.closeSearch) > 0 {
		st, err := tx.PrepareContext(ctx, `UPDATE history_search SET to_position = ?, to_time = ?
			WHERE ent = ? AND key = ? AND value = ? AND to_position IS NULL`)
		if err != nil {
			return err
		}
		defer st.Close()
		for a := w.closeSearch; len(a) > 0; a = a[5:] {
			if _, err := st.ExecContext(ctx, a[:5]...); err != nil {
				return fmt.Errorf("close search rows: %w", err)
			}
		}
	}
	if len(w.closeRels) > 0 {
		st, err := tx.PrepareContext(ctx, `UPDATE history_relations SET to_position = ?, to_time = ?
			WHERE source = ? AND ltype = ? AND target = ? AND ent = ? AND to_position IS NULL`)
		if err != nil {
			return err
		}
		defer st.Close()
		for a := w.closeRels; len(a) > 0; a = a[6:] {
			if _, err := st.ExecContext(ctx, a[:6]...); err != nil {
				return fmt.Errorf("close relations: %w", err)
			}
		}
	}
	if err := insertRows(ctx, tx, "history_search(ent, key, value, from_position, to_position, from_time, to_time, original)", nSearchCols, w.search); err != nil {
		return err
	}
	return insertRows(ctx, tx, "history_relations(source, ltype, target, ent, from_position, to_position, from_time, to_time, type, target_ref)", nRelationCols, w.rels)
}

// rowsOf computes the catalog rows of a stored version from its body.
func rowsOf(key, uid, hash string, raw []byte) (catalogstore.EntityRows, error) {
	obj, err := catalog.DecodeJSONObject(raw)
	if err != nil {
		return catalogstore.EntityRows{}, fmt.Errorf("entity %s: body: %w", key, err)
	}
	ent, err := catalog.LoadEntity(obj)
	if err != nil {
		return catalogstore.EntityRows{}, fmt.Errorf("entity %s: %w", key, err)
	}
	rows, err := catalogstore.NewEntityRows(ent, uid, hash)
	if err != nil {
		return catalogstore.EntityRows{}, fmt.Errorf("entity %s: %w", key, err)
	}
	return rows, nil
}

// loadCurrent fills cur with the rows of the stored head h, computed from its body.
func loadCurrent(ctx context.Context, body *sql.Stmt, h history.Head, cur *entityRows) error {
	var raw []byte
	if err := body.QueryRowContext(ctx, h.Key, h.Number).Scan(&raw); err != nil {
		return fmt.Errorf("read version %d of %s: %w", h.Number, h.Key, err)
	}
	rows, err := rowsOf(h.Key, h.UID, h.Hash, raw)
	if err != nil {
		return err
	}
	for _, sr := range rows.Search {
		id := searchID{sr.Key, sr.Value}
		if _, dup := cur.search[id]; !dup {
			cur.search[id] = searchCur{original: sr.Original, ins: stored}
		}
	}
	for _, r := range bothWays(&rows) {
		id := relationID{r.Source, strings.ToLower(r.Type), r.Target}
		if _, dup := cur.rels[id]; !dup {
			cur.rels[id] = relationCur{typ: r.Type, targetRef: r.TargetRef, ins: stored}
		}
	}
	return nil
}

// apply moves the entity's current rows to those of version v (rows; none
// for a removal).
func (w *spanWriter) apply(v *history.Version, cur *entityRows, rows *catalogstore.EntityRows) {
	at := v.ValidFrom
	pos, ns := at.Position, at.Time.UnixNano()
	nextSearch := make(map[searchID]*string, len(rows.Search))
	for _, sr := range rows.Search {
		id := searchID{sr.Key, sr.Value}
		if _, dup := nextSearch[id]; !dup {
			nextSearch[id] = sr.Original
		}
	}
	for id, c := range cur.search {
		if orig, ok := nextSearch[id]; ok && sameOriginal(orig, c.original) {
			continue
		}
		if c.ins == stored {
			w.closeSearch = append(w.closeSearch, pos, ns, v.Key, id.key, id.value)
		} else {
			w.search[c.ins*nSearchCols+4], w.search[c.ins*nSearchCols+6] = pos, ns
		}
		delete(cur.search, id)
	}
	for _, sr := range rows.Search {
		id := searchID{sr.Key, sr.Value}
		if _, ok := cur.search[id]; ok {
			continue // unchanged, or a duplicate of this version
		}
		var orig any
		if sr.Original != nil {
			orig = *sr.Original
		}
		cur.search[id] = searchCur{original: sr.Original, ins: len(w.search) / nSearchCols}
		w.search = append(w.search, v.Key, sr.Key, sr.Value, pos, nil, ns, nil, orig)
	}
	rels := bothWays(rows)
	nextRels := make(map[relationID]relationRow, len(rels))
	for _, r := range rels {
		id := relationID{r.Source, strings.ToLower(r.Type), r.Target}
		if _, dup := nextRels[id]; !dup {
			nextRels[id] = r
		}
	}
	for id, c := range cur.rels {
		if r, ok := nextRels[id]; ok && r.Type == c.typ && r.TargetRef == c.targetRef {
			continue
		}
		if c.ins == stored {
			w.closeRels = append(w.closeRels, pos, ns, id.source, id.ltype, id.target, v.Key)
		} else {
			w.rels[c.ins*nRelationCols+5], w.rels[c.ins*nRelationCols+7] = pos, ns
		}
		delete(cur.rels, id)
	}
	for _, r := range rels {
		id := relationID{r.Source, strings.ToLower(r.Type), r.Target}
		if _, ok := cur.rels[id]; ok {
			continue
		}
		cur.rels[id] = relationCur{typ: r.Type, targetRef: r.TargetRef, ins: len(w.rels) / nRelationCols}
		w.rels = append(w.rels, id.source, id.ltype, id.target, v.Key, pos, nil, ns, nil, r.Type, r.TargetRef)
	}
}

// relationRow is one row of history_relations as an entity's version
// carries it: a relation it declares (Source is the entity) or the reverse of
// one (Target is the entity).
type relationRow struct {
	// Source and Target are lower-case keys; TargetRef is the target's display ref.
	Source, Type, Target, TargetRef string
}

// bothWays lists the relations of rows in both directions, as the history's
// rows keep them (the catalog read model stores each once and derives the
// reverse): each declared relation, then its reverse from the target back to
// the entity.
func bothWays(rows *catalogstore.EntityRows) []relationRow {
	out := make([]relationRow, 0, 2*len(rows.Relations))
	for _, r := range rows.Relations {
		out = append(out,
			relationRow{Source: rows.Key, Type: r.Type, Target: r.Target, TargetRef: r.TargetRef},
			relationRow{Source: r.Target, Type: r.Reverse, Target: rows.Key, TargetRef: rows.Ref})
	}
	return out
}

func sameOriginal(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}
