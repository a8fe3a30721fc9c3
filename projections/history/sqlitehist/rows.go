package sqlitehist

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"backlot.dev/backlot/projections/history"
)

const (
	nSearchCols   = 8
	nRelationCols = 11
)

// writeCatalogRows stores the catalog rows of the new versions of ch as
// spans (history.Spans): the open spans of each entity whose head the store
// holds are read from the tables' primary keys (heads say which), so no
// stored body is decoded.
func writeCatalogRows(ctx context.Context, tx *sql.Tx, ch history.Change, heads map[string]history.Head) error {
	if len(ch.Rows) != len(ch.New) {
		return errors.New("history store: the change holds no catalog rows")
	}
	sp := history.NewSpans()
	var open *openLoader
	for i := range ch.New {
		v := &ch.New[i]
		if !sp.Known(v.Key) {
			if h, ok := heads[v.Key]; ok && !h.Removed {
				if open == nil {
					var err error
					if open, err = newOpenLoader(ctx, tx); err != nil {
						return err
					}
					defer open.close()
				}
				if err := open.load(ctx, sp, v.Key); err != nil {
					return err
				}
			}
		}
		sp.Apply(v, &ch.Rows[i])
	}
	return insertSpans(ctx, tx, sp)
}

// openLoader reads the open spans of an entity.
type openLoader struct {
	search, rels *sql.Stmt
}

func newOpenLoader(ctx context.Context, tx *sql.Tx) (*openLoader, error) {
	s, err := tx.PrepareContext(ctx, `SELECT key, value, original, from_position, from_time FROM history_search
		WHERE ent = ? AND to_position IS NULL`)
	if err != nil {
		return nil, err
	}
	r, err := tx.PrepareContext(ctx, `SELECT ltype, target, type, target_ref, reverse, from_position, from_time FROM history_relations
		WHERE ent = ? AND to_position IS NULL`)
	if err != nil {
		s.Close()
		return nil, err
	}
	return &openLoader{search: s, rels: r}, nil
}

func (l *openLoader) close() {
	l.search.Close()
	l.rels.Close()
}

// load gives sp the open spans of ent.
func (l *openLoader) load(ctx context.Context, sp *history.Spans, ent string) error {
	rows, err := l.search.QueryContext(ctx, ent)
	if err != nil {
		return fmt.Errorf("read the open search rows of %s: %w", ent, err)
	}
	var search []history.SearchSpan
	for rows.Next() {
		s := history.SearchSpan{Ent: ent}
		var orig sql.NullString
		var ns int64
		if err := rows.Scan(&s.Key, &s.Value, &orig, &s.From.Position, &ns); err != nil {
			rows.Close()
			return fmt.Errorf("read the open search rows of %s: %w", ent, err)
		}
		if orig.Valid {
			o := orig.String
			s.Original = &o
		}
		s.From.Time = fromNanos(ns)
		search = append(search, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the open search rows of %s: %w", ent, err)
	}
	if rows, err = l.rels.QueryContext(ctx, ent); err != nil {
		return fmt.Errorf("read the open relations of %s: %w", ent, err)
	}
	var rels []history.RelationSpan
	for rows.Next() {
		r := history.RelationSpan{Ent: ent}
		var ns int64
		if err := rows.Scan(&r.LType, &r.Target, &r.Type, &r.TargetRef, &r.Reverse, &r.From.Position, &ns); err != nil {
			rows.Close()
			return fmt.Errorf("read the open relations of %s: %w", ent, err)
		}
		r.From.Time = fromNanos(ns)
		rels = append(rels, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the open relations of %s: %w", ent, err)
	}
	sp.Load(ent, search, rels)
	return nil
}

// insertSpans closes the stored spans sp closed and inserts those it opened.
func insertSpans(ctx context.Context, tx *sql.Tx, sp *history.Spans) error {
	if len(sp.ClosedSearch) > 0 {
		st, err := tx.PrepareContext(ctx, `UPDATE history_search SET to_position = ?, to_time = ?
			WHERE ent = ? AND key = ? AND value = ? AND from_position = ?`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, s := range sp.ClosedSearch {
			if _, err := st.ExecContext(ctx, s.To.Position, s.To.Time.UnixNano(), s.Ent, s.Key, s.Value, s.From.Position); err != nil {
				return fmt.Errorf("close search rows: %w", err)
			}
		}
	}
	if len(sp.ClosedRelations) > 0 {
		st, err := tx.PrepareContext(ctx, `UPDATE history_relations SET to_position = ?, to_time = ?
			WHERE ent = ? AND ltype = ? AND target = ? AND from_position = ?`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, r := range sp.ClosedRelations {
			if _, err := st.ExecContext(ctx, r.To.Position, r.To.Time.UnixNano(), r.Ent, r.LType, r.Target, r.From.Position); err != nil {
				return fmt.Errorf("close relations: %w", err)
			}
		}
	}
	vals := make([]any, 0, len(sp.NewSearch)*nSearchCols)
	for i := range sp.NewSearch {
		s := &sp.NewSearch[i]
		var orig, toPos, toTime any
		if s.Original != nil {
			orig = *s.Original
		}
		if s.To != nil {
			toPos, toTime = s.To.Position, s.To.Time.UnixNano()
		}
		vals = append(vals, s.Ent, s.Key, s.Value, s.From.Position, toPos, s.From.Time.UnixNano(), toTime, orig)
	}
	if err := insertRows(ctx, tx, "history_search(ent, key, value, from_position, to_position, from_time, to_time, original)", nSearchCols, vals); err != nil {
		return err
	}
	vals = make([]any, 0, len(sp.NewRelations)*nRelationCols)
	for i := range sp.NewRelations {
		r := &sp.NewRelations[i]
		var toPos, toTime any
		if r.To != nil {
			toPos, toTime = r.To.Position, r.To.Time.UnixNano()
		}
		vals = append(vals, r.Ent, r.LType, r.Target, r.From.Position, toPos, r.From.Time.UnixNano(), toTime, r.Type, r.TargetRef, r.Reverse, r.LReverse)
	}
	return insertRows(ctx, tx, "history_relations(ent, ltype, target, from_position, to_position, from_time, to_time, type, target_ref, reverse, lreverse)", nRelationCols, vals)
}
