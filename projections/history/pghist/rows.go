package pghist

import (
	"context"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/projections/history"
)

// searchCols and relationCols are the columns of the catalog rows in the
// order they are copied in.
var (
	searchCols = []string{"ent", "key", "value", "from_partition", "from_position", "to_partition", "to_position",
		"from_time", "to_time", "original"}
	relationCols = []string{"ent", "ltype", "target", "from_partition", "from_position", "to_partition", "to_position",
		"from_time", "to_time", "type", "target_ref", "reverse", "lreverse"}
)

// writeCatalogRows stores the catalog rows of the new versions of ch as
// spans (history.Spans): the open spans of the entities whose stored head
// exists (heads) are read first, in two statements for the whole batch.
func writeCatalogRows(ctx context.Context, tx pgx.Tx, ch history.Change, heads map[string]history.Head) error {
	sp, err := history.SpansOf(ch, heads, func(sp *history.Spans, keys []string) error { return loadOpen(ctx, tx, sp, keys) })
	if err != nil {
		return err
	}
	return writeSpans(ctx, tx, sp)
}

// loadOpen gives sp the open spans of the entities.
func loadOpen(ctx context.Context, tx pgx.Tx, sp *history.Spans, ents []string) error {
	if len(ents) == 0 {
		return nil
	}
	search := map[string][]history.SearchSpan{}
	rels := map[string][]history.RelationSpan{}
	rows, err := tx.Query(ctx, `SELECT ent, key, value, original, from_partition, from_position, from_time FROM history_search
		WHERE ent = ANY($1) AND to_position IS NULL`, ents)
	if err != nil {
		return err
	}
	var s history.SearchSpan
	var orig *string
	var ns int64
	if _, err := pgx.ForEachRow(rows, []any{&s.Ent, &s.Key, &s.Value, &orig, &s.From.Partition, &s.From.Position, &ns}, func() error {
		r := s
		if orig != nil {
			o := *orig
			r.Original = &o
		}
		r.From.Time = fromNanos(ns)
		search[r.Ent] = append(search[r.Ent], r)
		return nil
	}); err != nil {
		return err
	}
	rows, err = tx.Query(ctx, `SELECT ent, ltype, target, type, target_ref, reverse, from_partition, from_position, from_time FROM history_relations
		WHERE ent = ANY($1) AND to_position IS NULL`, ents)
	if err != nil {
		return err
	}
	var r history.RelationSpan
	if _, err := pgx.ForEachRow(rows, []any{&r.Ent, &r.LType, &r.Target, &r.Type, &r.TargetRef, &r.Reverse, &r.From.Partition, &r.From.Position, &ns}, func() error {
		x := r
		x.From.Time = fromNanos(ns)
		rels[x.Ent] = append(rels[x.Ent], x)
		return nil
	}); err != nil {
		return err
	}
	for _, e := range ents {
		sp.Load(e, search[e], rels[e])
	}
	return nil
}

// writeSpans closes the stored spans sp closed, with one UPDATE per table,
// and copies in those it opened.
func writeSpans(ctx context.Context, tx pgx.Tx, sp *history.Spans) error {
	b := &pgx.Batch{}
	if n := len(sp.ClosedSearch); n > 0 {
		ents, keys, vals := make([]string, n), make([]string, n), make([]string, n)
		fparts, fposs, tparts, tposs, ttimes := make([]int32, n), make([]int64, n), make([]int32, n), make([]int64, n), make([]int64, n)
		for i, c := range sp.ClosedSearch {
			ents[i], keys[i], vals[i] = c.Ent, c.Key, c.Value
			fparts[i], fposs[i], tparts[i], tposs[i], ttimes[i] = c.From.Partition, c.From.Position, c.To.Partition, c.To.Position, c.To.Time.UnixNano()
		}
		b.Queue(`UPDATE history_search s SET to_partition = u.tp, to_position = u.tpos, to_time = u.tt
			FROM unnest($1::text[], $2::text[], $3::text[], $4::int4[], $5::int8[], $6::int4[], $7::int8[], $8::int8[]) AS u(ent, key, value, fp, fpos, tp, tpos, tt)
			WHERE s.ent = u.ent AND s.key = u.key AND s.value = u.value AND s.from_partition = u.fp AND s.from_position = u.fpos`,
			ents, keys, vals, fparts, fposs, tparts, tposs, ttimes)
	}
	if n := len(sp.ClosedRelations); n > 0 {
		ents, ltypes, targets := make([]string, n), make([]string, n), make([]string, n)
		fparts, fposs, tparts, tposs, ttimes := make([]int32, n), make([]int64, n), make([]int32, n), make([]int64, n), make([]int64, n)
		for i, c := range sp.ClosedRelations {
			ents[i], ltypes[i], targets[i] = c.Ent, c.LType, c.Target
			fparts[i], fposs[i], tparts[i], tposs[i], ttimes[i] = c.From.Partition, c.From.Position, c.To.Partition, c.To.Position, c.To.Time.UnixNano()
		}
		b.Queue(`UPDATE history_relations r SET to_partition = u.tp, to_position = u.tpos, to_time = u.tt
			FROM unnest($1::text[], $2::text[], $3::text[], $4::int4[], $5::int8[], $6::int4[], $7::int8[], $8::int8[]) AS u(ent, ltype, target, fp, fpos, tp, tpos, tt)
			WHERE r.ent = u.ent AND r.ltype = u.ltype AND r.target = u.target AND r.from_partition = u.fp AND r.from_position = u.fpos`,
			ents, ltypes, targets, fparts, fposs, tparts, tposs, ttimes)
	}
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
	}
	srows := make([][]any, len(sp.NewSearch))
	for i := range sp.NewSearch {
		s := &sp.NewSearch[i]
		var tp, tpos, tt, orig any
		if s.To != nil {
			tp, tpos, tt = s.To.Partition, s.To.Position, s.To.Time.UnixNano()
		}
		if s.Original != nil {
			orig = *s.Original
		}
		srows[i] = []any{s.Ent, s.Key, s.Value, s.From.Partition, s.From.Position, tp, tpos, s.From.Time.UnixNano(), tt, orig}
	}
	if err := copyRows(ctx, tx, "history_search", searchCols, srows); err != nil {
		return err
	}
	rrows := make([][]any, len(sp.NewRelations))
	for i := range sp.NewRelations {
		r := &sp.NewRelations[i]
		var tp, tpos, tt any
		if r.To != nil {
			tp, tpos, tt = r.To.Partition, r.To.Position, r.To.Time.UnixNano()
		}
		rrows[i] = []any{r.Ent, r.LType, r.Target, r.From.Partition, r.From.Position, tp, tpos, r.From.Time.UnixNano(), tt, r.Type, r.TargetRef, r.Reverse, r.LReverse}
	}
	return copyRows(ctx, tx, "history_relations", relationCols, rrows)
}
