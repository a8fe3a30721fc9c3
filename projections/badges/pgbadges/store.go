package pgbadges

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/storekit/pgkit"
)

//go:embed migrations/*.sql
var migrations embed.FS

// positionLockClass is the first key of the per-partition advisory locks that
// make concurrent Applies of one partition take turns.
const positionLockClass int32 = 0x42646731 // "Bdg1"

// evaluatorName is the name the evaluator's positions are kept under.
const evaluatorName = "evaluator"

// applyAttempts is how often Apply runs a transaction that failed on a
// serialization failure or a deadlock.
const applyAttempts = 5

// Store is the badge read model in a PostgreSQL database. It is safe for
// concurrent use, and several Stores in several processes may share one database.
type Store struct {
	pool    *pgxpool.Pool
	ownPool bool
}

var _ badges.Store = (*Store)(nil)

// Open connects to the database at url, applies the migrations and returns the
// store, which closes its pool on Close.
func Open(ctx context.Context, url string) (*Store, error) {
	pool, err := pgkit.NewPool(url, 0)
	if err != nil {
		return nil, err
	}
	s, err := New(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.ownPool = true
	return s, nil
}

// New returns a store on a pool the caller owns, after applying the migrations.
func New(ctx context.Context, pool *pgxpool.Pool) (*Store, error) {
	if err := pgkit.Migrate(ctx, pool, "badges", migrations, "migrations/*.sql"); err != nil {
		return nil, fmt.Errorf("badge store (postgres): %w", err)
	}
	return &Store{pool: pool}, nil
}

// Close closes the pool if Open made it.
func (s *Store) Close() error {
	if s.ownPool {
		s.pool.Close()
	}
	return nil
}

// Positions returns the last position applied in each partition.
func (s *Store) Positions(ctx context.Context) (event.Positions, error) {
	return pgkit.ReadPositions(ctx, s.pool, "badge_positions", badges.ProjectionName)
}

// EvaluatorPositions returns the last position the evaluator handled in each partition.
func (s *Store) EvaluatorPositions(ctx context.Context) (event.Positions, error) {
	return pgkit.ReadPositions(ctx, s.pool, "badge_positions", evaluatorName)
}

// SetEvaluatorPositions records them.
func (s *Store) SetEvaluatorPositions(ctx context.Context, pos event.Positions) error {
	return pgkit.RetryTx(ctx, s.pool, applyAttempts, "badge store (postgres)", func(tx pgx.Tx) error {
		return pgkit.WritePositions(ctx, tx, "badge_positions", evaluatorName, pos)
	})
}

// Apply folds the facts and badge events of the batch in one transaction, with
// the position of the last event of each partition. Events at or below their
// partition's recorded position are skipped.
func (s *Store) Apply(ctx context.Context, events []event.Envelope) error {
	if len(events) == 0 {
		return nil
	}
	return pgkit.RetryTx(ctx, s.pool, applyAttempts, "badge store (postgres)", func(tx pgx.Tx) error {
		applied, err := pgkit.LockPositions(ctx, tx, positionLockClass, "badge_positions", badges.ProjectionName, events)
		if err != nil {
			return err
		}
		ops, err := badges.Decode(events, applied)
		if err != nil {
			return fmt.Errorf("badge store (postgres): %w", err)
		}
		w := badges.PlanWrites(ops)
		if err := write(ctx, tx, w); err != nil {
			return fmt.Errorf("badge store (postgres): %w", err)
		}
		last := event.PositionsOf(events)
		for p, pos := range last {
			if pos <= applied[p] {
				delete(last, p)
			}
		}
		return pgkit.WritePositions(ctx, tx, "badge_positions", badges.ProjectionName, last)
	})
}

// write writes the rows of a batch: the changes by COPY, the facts, sources
// and verdicts with one set-based statement each (every row appears once, so
// an upsert never meets its own row twice).
func write(ctx context.Context, tx pgx.Tx, w badges.Writes) error {
	b := &pgx.Batch{}
	if n := len(w.Facts); n > 0 {
		ent, src, facts, at, part, pos := make([]string, n), make([]string, n), make([]string, n), make([]int64, n), make([]int32, n), make([]int64, n)
		for i, r := range w.Facts {
			ent[i], src[i], facts[i], at[i], part[i], pos[i] = r.Entity, r.Source, r.Facts, r.ObservedAt.UnixNano(), r.Partition, r.Position
		}
		b.Queue(`INSERT INTO badge_facts(entity, source, facts, observed_at, partition, position)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::integer[], $6::bigint[])
			ON CONFLICT (entity, source) DO UPDATE SET facts = excluded.facts, observed_at = excluded.observed_at, partition = excluded.partition, position = excluded.position`,
			ent, src, facts, at, part, pos)
	}
	for _, r := range w.Sources {
		if r.Drop {
			b.Queue(`DELETE FROM badge_fact_sources WHERE source = $1`, r.Source)
			continue
		}
		b.Queue(`INSERT INTO badge_fact_sources(source, schema, partition, position) VALUES ($1, $2, $3, $4)
			ON CONFLICT (source) DO UPDATE SET schema = excluded.schema, partition = excluded.partition, position = excluded.position`,
			r.Source, r.Schema, r.Partition, r.Position)
	}
	var dropPolicy, dropEntity, policy, entity, level, owner, digest []string
	var part []int32
	var pos []int64
	for _, r := range w.Verdicts {
		if r.Drop {
			dropPolicy, dropEntity = append(dropPolicy, r.Policy), append(dropEntity, r.Entity)
			continue
		}
		policy, entity, level = append(policy, r.Policy), append(entity, r.Entity), append(level, r.Level)
		owner, digest = append(owner, r.Owner), append(digest, r.Digest)
		part, pos = append(part, r.Partition), append(pos, r.Position)
	}
	if len(dropPolicy) > 0 {
		b.Queue(`DELETE FROM badges b USING unnest($1::text[], $2::text[]) AS d(policy, entity)
			WHERE b.policy = d.policy AND b.entity = d.entity`, dropPolicy, dropEntity)
	}
	if len(policy) > 0 {
		b.Queue(`INSERT INTO badges(policy, entity, level, owner, digest, partition, position)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::integer[], $7::bigint[])
			ON CONFLICT (policy, entity) DO UPDATE SET level = excluded.level, owner = excluded.owner, digest = excluded.digest,
				partition = excluded.partition, position = excluded.position`,
			policy, entity, level, owner, digest, part, pos)
	}
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
	}
	if len(w.Changes) == 0 {
		return nil
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"badge_changes"}, []string{"partition", "position", "time", "event_id", "type", "policy", "entity", "data"},
		pgx.CopyFromSlice(len(w.Changes), func(i int) ([]any, error) {
			r := &w.Changes[i]
			return []any{r.Partition, r.Position, r.Time, r.EventID, r.Type, r.Policy, r.Entity, r.Data}, nil
		}))
	if err != nil {
		return fmt.Errorf("copy %d changes: %w", len(w.Changes), err)
	}
	return nil
}

// Facts returns what every source reported about the entity, by source.
func (s *Store) Facts(ctx context.Context, key string) ([]badges.FactSet, error) {
	m, err := s.FactsOf(ctx, []string{key})
	return m[key], err
}

// FactsOf returns what every source reported about several entities, by key.
func (s *Store) FactsOf(ctx context.Context, keys []string) (map[string][]badges.FactSet, error) {
	rows, err := s.pool.Query(ctx, `SELECT entity, source, facts, observed_at, position FROM badge_facts WHERE entity = ANY($1) ORDER BY entity, source`, keys)
	if err != nil {
		return nil, fmt.Errorf("badge store (postgres): %w", err)
	}
	defer rows.Close()
	out := make(map[string][]badges.FactSet, len(keys))
	for rows.Next() {
		var key, facts string
		var at int64
		var f badges.FactSet
		if err := rows.Scan(&key, &f.Source, &facts, &at, &f.Position); err != nil {
			return nil, err
		}
		f.Facts, f.ObservedAt = json.RawMessage(facts), time.Unix(0, at).UTC()
		out[key] = append(out[key], f)
	}
	return out, rows.Err()
}

// FactSource returns the schema the source declared, or badges.ErrNotFound.
func (s *Store) FactSource(ctx context.Context, source string) (json.RawMessage, error) {
	var schema string
	err := s.pool.QueryRow(ctx, `SELECT schema FROM badge_fact_sources WHERE source = $1`, source).Scan(&schema)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, badges.ErrNotFound
	}
	return json.RawMessage(schema), err
}

// verdictCols are the columns of the change that made a verdict (b), as
// badges.ScanBadges reads them.
const verdictCols = `c.partition, c.position, c.time, c.event_id, c.data FROM badges b
	JOIN badge_changes c ON c.partition = b.partition AND c.position = b.position`

// Badges returns the entity's current verdicts, by policy id.
func (s *Store) Badges(ctx context.Context, key string) ([]badges.Badge, error) {
	return s.queryBadges(ctx, `SELECT `+verdictCols+` WHERE b.entity = $1 ORDER BY b.policy`, key)
}

// BadgesOf returns the current verdicts of several entities in full, by key.
func (s *Store) BadgesOf(ctx context.Context, keys []string) (map[string][]badges.Badge, error) {
	bs, err := s.queryBadges(ctx, `SELECT `+verdictCols+` WHERE b.entity = ANY($1) ORDER BY b.entity, b.policy`, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]badges.Badge, len(keys))
	for _, b := range bs {
		out[b.Entity] = append(out[b.Entity], b)
	}
	return out, nil
}

// VerdictsOf returns the current verdicts of several entities, by key: their
// levels and digests, read from the verdict rows alone.
func (s *Store) VerdictsOf(ctx context.Context, keys []string) (map[string][]badges.Verdict, error) {
	rows, err := s.pool.Query(ctx, `SELECT entity, policy, level, digest FROM badges WHERE entity = ANY($1) ORDER BY entity, policy`, keys)
	if err != nil {
		return nil, fmt.Errorf("badge store (postgres): %w", err)
	}
	defer rows.Close()
	out := make(map[string][]badges.Verdict, len(keys))
	for rows.Next() {
		var key string
		var v badges.Verdict
		if err := rows.Scan(&key, &v.Policy, &v.Level, &v.Digest); err != nil {
			return nil, err
		}
		out[key] = append(out[key], v)
	}
	return out, rows.Err()
}

// Results returns a page of a policy's current verdicts, in entity order.
func (s *Store) Results(ctx context.Context, q badges.ResultQuery) ([]badges.Badge, error) {
	where, args := `b.policy = $1 AND b.entity > $2`, []any{q.Policy, q.After}
	if q.ByLevel {
		args = append(args, q.Level)
		where += fmt.Sprintf(` AND b.level = $%d`, len(args))
	}
	if q.Owner != "" {
		args = append(args, strings.ToLower(q.Owner))
		where += fmt.Sprintf(` AND b.owner = $%d`, len(args))
	}
	stmt := `SELECT ` + verdictCols + ` WHERE ` + where + ` ORDER BY b.entity`
	if q.Limit > 0 {
		stmt += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	return s.queryBadges(ctx, stmt, args...)
}

// Tally counts a policy's current verdicts per owner and level.
func (s *Store) Tally(ctx context.Context, policy string) ([]badges.TallyRow, error) {
	rows, err := s.pool.Query(ctx, `SELECT owner, level, count(*) FROM badges WHERE policy = $1 GROUP BY owner, level ORDER BY owner, level`, policy)
	if err != nil {
		return nil, fmt.Errorf("badge store (postgres): %w", err)
	}
	defer rows.Close()
	return badges.ScanTally(rows)
}

func (s *Store) queryBadges(ctx context.Context, q string, args ...any) ([]badges.Badge, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("badge store (postgres): %w", err)
	}
	defer rows.Close()
	return badges.ScanBadges(rows)
}

// BadgesAt returns the entity's verdicts as they were at the instant.
func (s *Store) BadgesAt(ctx context.Context, key string, at history.Instant) ([]badges.Badge, error) {
	cs, err := s.EntityChanges(ctx, key)
	if err != nil {
		return nil, err
	}
	return badges.At(cs, at), nil
}

const changeCols = `partition, position, time, event_id, type, data`

// EntityChanges returns the changes of one entity's verdicts, in log order.
func (s *Store) EntityChanges(ctx context.Context, key string) ([]badges.Change, error) {
	var out []badges.Change
	err := s.changes(ctx, `SELECT `+changeCols+` FROM badge_changes WHERE entity = $1 ORDER BY partition, position`, []any{key}, func(c badges.Change) bool {
		out = append(out, c)
		return true
	})
	return out, err
}

// Changes calls fn for every change of the policy's verdicts in time order.
func (s *Store) Changes(ctx context.Context, policy string, fn func(badges.Change) bool) error {
	if policy == "" {
		return s.changes(ctx, `SELECT `+changeCols+` FROM badge_changes ORDER BY time, partition, position`, nil, fn)
	}
	return s.changes(ctx, `SELECT `+changeCols+` FROM badge_changes WHERE policy = $1 ORDER BY time, partition, position`, []any{policy}, fn)
}

func (s *Store) changes(ctx context.Context, q string, args []any, fn func(badges.Change) bool) error {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("badge store (postgres): %w", err)
	}
	defer rows.Close()
	return badges.ScanChanges(rows, fn)
}
