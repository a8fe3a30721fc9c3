package sqlitehist

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"backlot.dev/backlot/projections/history"
)

const (
	nSearchCols   = 8
	nRelationCols = 11
)

// writeCatalogRows stores the catalog rows of the new versions of ch as
// spans (history.Spans): the open spans of the entities whose stored head
// exists (heads say which) are read from the tables' primary keys, a chunk
// of entities per statement, so no stored body is decoded.
func writeCatalogRows(ctx context.Context, tx *sql.Tx, ch history.Change, heads map[string]history.Head) error {
	sp, err := history.SpansOf(ch, heads, func(sp *history.Spans, keys []string) error { return loadOpen(ctx, tx, sp, keys) })
	if err != nil {
		return err
	}
	return insertSpans(ctx, tx, sp)
}

// openChunk is how many entities one statement reads the open spans of.
const openChunk = 400

// loadOpen gives sp the open spans of the entities.
func loadOpen(ctx context.Context, tx *sql.Tx, sp *history.Spans, ents []string) error {
	search := map[string][]history.SearchSpan{}
	rels := map[string][]history.RelationSpan{}
	for start := 0; start < len(ents); start += openChunk {
		part := ents[start:min(start+openChunk, len(ents))]
		args := make([]any, len(part))
		for i, e := range part {
			args[i] = e
		}
		in := strings.TrimSuffix(strings.Repeat("?,", len(part)), ",")
		rows, err := tx.QueryContext(ctx, `SELECT ent, key, value, original, from_position, from_time FROM history_search
			WHERE ent IN (`+in+`) AND to_position IS NULL`, args...)
		if err != nil {
			return fmt.Errorf("read open search rows: %w", err)
		}
		for rows.Next() {
			var s history.SearchSpan
			var orig sql.NullString
			var ns int64
			if err := rows.Scan(&s.Ent, &s.Key, &s.Value, &orig, &s.From.Position, &ns); err != nil {
				rows.Close()
				return fmt.Errorf("read open search rows: %w", err)
			}
			if orig.Valid {
				o := orig.String
				s.Original = &o
			}
			s.From.Time = fromNanos(ns)
			search[s.Ent] = append(search[s.Ent], s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read open search rows: %w", err)
		}
		if rows, err = tx.QueryContext(ctx, `SELECT ent, ltype, target, type, target_ref, reverse, from_position, from_time FROM history_relations
			WHERE ent IN (`+in+`) AND to_position IS NULL`, args...); err != nil {
			return fmt.Errorf("read open relations: %w", err)
		}
		for rows.Next() {
			var r history.RelationSpan
			var ns int64
			if err := rows.Scan(&r.Ent, &r.LType, &r.Target, &r.Type, &r.TargetRef, &r.Reverse, &r.From.Position, &ns); err != nil {
				rows.Close()
				return fmt.Errorf("read open relations: %w", err)
			}
			r.From.Time = fromNanos(ns)
			rels[r.Ent] = append(rels[r.Ent], r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read open relations: %w", err)
		}
	}
	for _, e := range ents {
		sp.Load(e, search[e], rels[e])
	}
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
