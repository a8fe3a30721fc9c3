package sqlitebadges

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/storekit/sqlitekit"
	"backlot.dev/backlot/projections/storekit/sqlitewal"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the badge read model on a SQLite file. It is safe for concurrent
// use: Applies take turns on the writer, queries run on the read pool.
type Store struct {
	write *sql.DB
	read  *sql.DB
	mu    sync.Mutex
	// stmts are the writer's multi-row statements, prepared once (guarded
	// by mu).
	stmts   map[stmtKey]*sql.Stmt
	missing []stmtKey
	// wal starts the write-ahead log over after a commit that left it past
	// the autocheckpoint threshold (guarded by mu).
	wal sqlitewal.Guard
}

// stmtKey names a multi-row statement: head, n rows of cols columns, tail.
type stmtKey struct {
	head, tail string
	cols, n    int
}

var _ badges.Store = (*Store)(nil)

// writerPragmas are the badge store's own settings. A fold writes multi-row
// upserts inside a transaction, each with a statement journal: kept in
// memory (temp_store), it is not written to a temporary file once it passes
// 64 KiB. And a full evaluation folds about 1.5 KB of badge_changes a verdict
// into indexes keyed by entity: a checkpoint every 10,000 WAL pages
// (40 MB; SQLite's default is 1,000) copies a page rewritten by several
// batches once rather than once for each.
var writerPragmas = []string{"temp_store(MEMORY)"}

// autocheckpointPages is the writer's wal_autocheckpoint (see writerPragmas).
// A catch-up folded while readers keep reading (a full evaluation's, whose
// evaluator reads the verdicts of each page it rates) leaves a log that
// SQLite does not start over (the package sqlitewal says why): past this many
// pages, each Apply starts it over itself after its commit
// (sqlitewal.Guard), or every later commit, an edit's too, runs a
// checkpoint of its own.
const autocheckpointPages = 10000

// walPageBytes is the size of a page in the write-ahead log: SQLite's page of
// 4,096 bytes and its frame header.
const walPageBytes = 4096 + 24

// applyWALWait bounds the wait of each Apply's attempt to start the log
// over for the readers of its old frames.
const applyWALWait = 50 * time.Millisecond

// Open opens or creates the badge read model at path and applies its migrations.
func Open(path string) (*Store, error) {
	return open(path, autocheckpointPages)
}

// open opens the store with a checkpoint every pages pages of write-ahead log.
func open(path string, pages int) (*Store, error) {
	w, r, err := sqlitekit.Open(path, sqlitekit.Options{
		CacheKiB:      8192,
		Pragmas:       append(slices.Clone(writerPragmas), fmt.Sprintf("wal_autocheckpoint(%d)", pages)),
		Migrations:    migrations,
		MigrationGlob: "migrations/*.sql",
		VersionPrefix: "badges/",
	})
	if err != nil {
		return nil, fmt.Errorf("badge store %s: %w", path, err)
	}
	return &Store{write: w, read: r, stmts: map[stmtKey]*sql.Stmt{},
		wal: sqlitewal.Guard{Path: path, Limit: int64(pages) * walPageBytes, Wait: applyWALWait}}, nil
}

// Close closes both connection pools.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, st := range s.stmts {
		errs = append(errs, st.Close())
	}
	return errors.Join(append(errs, s.read.Close(), s.write.Close())...)
}

// Positions returns the last applied position of partition 0, the only one.
func (s *Store) Positions(ctx context.Context) (event.Positions, error) {
	p, err := position(ctx, s.read, badges.ProjectionName)
	return event.Positions{0: p}, err
}

// EvaluatorPositions returns the last log position the badge evaluator has
// handled (partition 0, the only one); it is kept here, beside the verdicts
// it compares with.
func (s *Store) EvaluatorPositions(ctx context.Context) (event.Positions, error) {
	p, err := position(ctx, s.read, "evaluator")
	return event.Positions{0: p}, err
}

// SetEvaluatorPositions records the last log position the evaluator handled.
func (s *Store) SetEvaluatorPositions(ctx context.Context, pos event.Positions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.write.ExecContext(ctx, `INSERT INTO badge_positions(name, position) VALUES ('evaluator', ?)
		ON CONFLICT(name) DO UPDATE SET position = excluded.position`, pos[0])
	return err
}

func position(ctx context.Context, db *sql.DB, name string) (int64, error) {
	var p int64
	err := db.QueryRowContext(ctx, `SELECT position FROM badge_positions WHERE name = ?`, name).Scan(&p)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("badge store: read position %s: %w", name, err)
	}
	return p, nil
}

// Apply folds the facts and badge events of the batch in one transaction. The
// batch is reduced to the last word on each row (badges.PlanWrites) and
// written with multi-row statements, in key order.
func (s *Store) Apply(ctx context.Context, events []event.Envelope) error {
	if len(events) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	applied, err := position(ctx, s.write, badges.ProjectionName)
	if err != nil {
		return err
	}
	last := events[len(events)-1].Position
	if last <= applied {
		return nil
	}
	ops, err := badges.Decode(events, event.Positions{0: applied})
	if err != nil {
		return fmt.Errorf("badge store: %w", err)
	}
	w := badges.PlanWrites(ops)
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := s.writeRows(ctx, tx, w); err != nil {
		return fmt.Errorf("badge store: batch up to position %d: %w", last, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO badge_positions(name, position) VALUES (?, ?)
		ON CONFLICT(name) DO UPDATE SET position = excluded.position`, badges.ProjectionName, last); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.prepareMissing(ctx)
	s.wal.AfterCommit(ctx, s.write)
	return nil
}

// writeRows writes the rows of a batch.
func (s *Store) writeRows(ctx context.Context, tx *sql.Tx, w badges.Writes) error {
	insertRows, tally := s.insertRows, s.tally
	var puts, drops [][]any
	for _, r := range w.Facts {
		puts = append(puts, []any{r.Entity, r.Source, r.Facts, r.ObservedAt.UTC().Format(time.RFC3339Nano), r.Position})
	}
	if err := insertRows(ctx, tx, `INSERT INTO facts(entity, source, facts, observed_at, position) VALUES `, 5, puts,
		` ON CONFLICT(entity, source) DO UPDATE SET facts = excluded.facts, observed_at = excluded.observed_at, position = excluded.position`); err != nil {
		return fmt.Errorf("facts: %w", err)
	}
	for _, r := range w.Sources {
		var err error
		if r.Drop {
			_, err = tx.ExecContext(ctx, `DELETE FROM fact_sources WHERE source = ?`, r.Source)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO fact_sources(source, schema, position) VALUES (?, ?, ?)
				ON CONFLICT(source) DO UPDATE SET schema = excluded.schema, position = excluded.position`, r.Source, r.Schema, r.Position)
		}
		if err != nil {
			return fmt.Errorf("fact source %s (position %d): %w", r.Source, r.Position, err)
		}
	}
	puts = make([][]any, 0, len(w.Changes))
	for _, r := range w.Changes {
		puts = append(puts, []any{r.Position, r.Time, r.EventID, r.Type, r.Policy, r.Entity, r.Data})
	}
	if err := insertRows(ctx, tx, `INSERT INTO badge_changes(position, time, event_id, type, policy, entity, data) VALUES `, 7, puts, ``); err != nil {
		return fmt.Errorf("changes: %w", err)
	}
	puts = puts[:0]
	keys := make([][]any, 0, len(w.Verdicts))
	gains := map[tallyKey]int{}
	for _, r := range w.Verdicts {
		keys = append(keys, []any{r.Policy, r.Entity})
		if r.Drop {
			drops = append(drops, []any{r.Policy, r.Entity})
			continue
		}
		puts = append(puts, []any{r.Policy, r.Entity, r.Level, r.Owner, r.Digest, r.Position})
		gains[tallyKey{r.Policy, r.Owner, r.Level}]++
	}
	// The tally loses the verdicts the batch replaces or drops, and gains
	// those it writes (each key appears once in a batch). Only keys that may
	// have a verdict are looked up: none past the last of their policy.
	keys, err := s.mayExist(ctx, tx, keys)
	if err != nil {
		return fmt.Errorf("tally: %w", err)
	}
	if err := tally(ctx, tx, "-", keys); err != nil {
		return fmt.Errorf("tally: %w", err)
	}
	if err := insertRows(ctx, tx, `DELETE FROM badges WHERE (policy, entity) IN (VALUES `, 2, drops, `)`); err != nil {
		return fmt.Errorf("verdicts removed: %w", err)
	}
	if err := insertRows(ctx, tx, `INSERT INTO badges(policy, entity, level, owner, digest, position) VALUES `, 6, puts,
		` ON CONFLICT(policy, entity) DO UPDATE SET level = excluded.level, owner = excluded.owner, digest = excluded.digest, position = excluded.position`); err != nil {
		return fmt.Errorf("verdicts: %w", err)
	}
	// What the verdicts written add is known without reading them back.
	if err := insertRows(ctx, tx, `INSERT INTO badge_tally(policy, owner, level, count) VALUES `, 4, tallyRows(gains),
		` ON CONFLICT(policy, owner, level) DO UPDATE SET count = count + excluded.count`); err != nil {
		return fmt.Errorf("tally: %w", err)
	}
	// Only the verdicts taken away can leave a count at zero.
	if len(keys) > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM badge_tally WHERE count = 0`); err != nil {
			return fmt.Errorf("tally: %w", err)
		}
	}
	return nil
}

// tallyKey is a row of badge_tally: a policy's verdicts of one owner and level.
type tallyKey struct{ policy, owner, level string }

// tallyRows returns the rows (policy, owner, level, count) of counts, in key
// order.
func tallyRows(counts map[tallyKey]int) [][]any {
	ks := make([]tallyKey, 0, len(counts))
	for k := range counts {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b tallyKey) int {
		return cmp.Or(strings.Compare(a.policy, b.policy), strings.Compare(a.owner, b.owner), strings.Compare(a.level, b.level))
	})
	rows := make([][]any, len(ks))
	for i, k := range ks {
		rows[i] = []any{k.policy, k.owner, k.level, counts[k]}
	}
	return rows
}

// mayExist returns the (policy, entity) keys, sorted as badges.PlanWrites
// sorts verdicts, that may have a verdict row: those at or before the last
// entity their policy has a verdict on, one lookup per policy of the batch.
// A fold of a new policy's verdicts in key order (a full evaluation that
// rates the catalog in key order) then looks up none after its first batch:
// in BenchmarkApplyFullEvaluation the lookups of verdicts that were not there
// were 0.09 of the fold's 1.3 CPU-s. In the catalog's creation order, which
// backlot dev's evaluator rates in today, a policy's last entity is near the
// end of the keys after a batch or two, and every key is looked up as before.
func (s *Store) mayExist(ctx context.Context, tx *sql.Tx, keys [][]any) ([][]any, error) {
	out := keys[:0:0]
	for i := 0; i < len(keys); {
		policy := keys[i][0].(string)
		j := i
		for j < len(keys) && keys[j][0].(string) == policy {
			j++
		}
		var last sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT max(entity) FROM badges WHERE policy = ?`, policy).Scan(&last); err != nil {
			return nil, err
		}
		for _, k := range keys[i:j] {
			if last.Valid && k[1].(string) <= last.String {
				out = append(out, k)
			}
		}
		i = j
	}
	return out, nil
}

// tally adds (sign "+") or takes away ("-") the current verdicts of the
// (policy, entity) keys from badge_tally.
func (s *Store) tally(ctx context.Context, tx *sql.Tx, sign string, keys [][]any) error {
	return s.insertRows(ctx, tx, `INSERT INTO badge_tally(policy, owner, level, count)
		SELECT b.policy, b.owner, b.level, `+sign+`count(*) FROM (VALUES `, 2, keys,
		`) k JOIN badges b ON b.policy = k.column1 AND b.entity = k.column2 WHERE true GROUP BY b.policy, b.owner, b.level
		ON CONFLICT(policy, owner, level) DO UPDATE SET count = count + excluded.count`)
}

// rowsPerStatement is how many rows one multi-row statement carries: large
// enough that a statement's overhead is spread thin, small enough to stay far
// below SQLite's limit of bound variables (32,766) at seven columns.
const rowsPerStatement = 256

// insertRows runs head + "(?, …), (?, …)…" + tail for the rows, of cols
// columns each: rowsPerStatement rows at a time, the rest in statements of
// 64, 16, 4 and 1 rows. Each statement is prepared once on the writer and
// kept (s.stmts), so a batch parses none.
func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, head string, cols int, rows [][]any, tail string) error {
	if len(rows) == 0 {
		return nil
	}
	args := make([]any, 0, min(len(rows), rowsPerStatement)*cols)
	for i := 0; i < len(rows); {
		n := rowsPerStatement
		for n > len(rows)-i {
			n /= 4
		}
		st, err := s.stmt(ctx, tx, stmtKey{head: head, tail: tail, cols: cols, n: n})
		if err != nil {
			return err
		}
		args = args[:0]
		for _, r := range rows[i : i+n] {
			args = append(args, r...)
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return err
		}
		i += n
	}
	return nil
}

// stmt returns the statement of k within tx: the one kept, or, the first
// time, one prepared on tx (the writer's one connection is the
// transaction's until it ends), whose key is kept in s.missing to be
// prepared for good once it has (prepareMissing).
func (s *Store) stmt(ctx context.Context, tx *sql.Tx, k stmtKey) (*sql.Stmt, error) {
	if st, ok := s.stmts[k]; ok {
		return tx.StmtContext(ctx, st), nil
	}
	s.missing = append(s.missing, k)
	return tx.PrepareContext(ctx, k.query())
}

// query renders the statement of k.
func (k stmtKey) query() string {
	one := "(?" + strings.Repeat(", ?", k.cols-1) + ")"
	return k.head + one + strings.Repeat(", "+one, k.n-1) + k.tail
}

// prepareMissing prepares the statements a transaction found missing, on
// the writer outside any transaction, and keeps them. One that does not
// prepare is left out: the next transaction that needs it prepares it again.
func (s *Store) prepareMissing(ctx context.Context) {
	for _, k := range s.missing {
		if _, ok := s.stmts[k]; ok {
			continue
		}
		if st, err := s.write.PrepareContext(ctx, k.query()); err == nil {
			s.stmts[k] = st
		}
	}
	s.missing = s.missing[:0]
}

// Facts returns what every source reported about the entity, by source.
func (s *Store) Facts(ctx context.Context, key string) ([]badges.FactSet, error) {
	m, err := s.FactsOf(ctx, []string{key})
	return m[key], err
}

// FactsOf returns what every source reported about several entities, by key.
func (s *Store) FactsOf(ctx context.Context, keys []string) (map[string][]badges.FactSet, error) {
	out := make(map[string][]badges.FactSet, len(keys))
	err := s.byKeys(ctx, `SELECT entity, source, facts, observed_at, position FROM facts WHERE entity IN (%s) ORDER BY entity, source`, keys, func(rows *sql.Rows) error {
		var key, facts, at string
		var f badges.FactSet
		if err := rows.Scan(&key, &f.Source, &facts, &at, &f.Position); err != nil {
			return err
		}
		f.Facts = json.RawMessage(facts)
		f.ObservedAt, _ = time.Parse(time.RFC3339Nano, at)
		out[key] = append(out[key], f)
		return nil
	})
	return out, err
}

// byKeys runs query (whose %s takes the placeholders of an IN list) for the
// keys, a chunk at a time, and calls scan for each row.
func (s *Store) byKeys(ctx context.Context, query string, keys []string, scan func(*sql.Rows) error) error {
	const chunk = 500
	for i := 0; i < len(keys); i += chunk {
		part := keys[i:min(i+chunk, len(keys))]
		args := make([]any, len(part))
		for j, k := range part {
			args[j] = k
		}
		rows, err := s.read.QueryContext(ctx, fmt.Sprintf(query, "?"+strings.Repeat(",?", len(part)-1)), args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// FactSource returns the schema the source declared, or badges.ErrNotFound.
func (s *Store) FactSource(ctx context.Context, source string) (json.RawMessage, error) {
	var schema string
	err := s.read.QueryRowContext(ctx, `SELECT schema FROM fact_sources WHERE source = ?`, source).Scan(&schema)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, badges.ErrNotFound
	}
	return json.RawMessage(schema), err
}

// verdictCols are the columns of the change that made a verdict (b), as
// badges.ScanBadges reads them.
const verdictCols = `0, c.position, c.time, c.event_id, c.data FROM badges b JOIN badge_changes c ON c.position = b.position`

// Badges returns the entity's current verdicts, by policy id.
func (s *Store) Badges(ctx context.Context, key string) ([]badges.Badge, error) {
	return s.queryBadges(ctx, `SELECT `+verdictCols+` WHERE b.entity = ? ORDER BY b.policy`, key)
}

// BadgesOf returns the current verdicts of several entities in full, by key.
func (s *Store) BadgesOf(ctx context.Context, keys []string) (map[string][]badges.Badge, error) {
	out := make(map[string][]badges.Badge, len(keys))
	const chunk = 500
	for i := 0; i < len(keys); i += chunk {
		part := keys[i:min(i+chunk, len(keys))]
		args := make([]any, len(part))
		for j, k := range part {
			args[j] = k
		}
		bs, err := s.queryBadges(ctx, `SELECT `+verdictCols+` WHERE b.entity IN (?`+strings.Repeat(",?", len(part)-1)+`) ORDER BY b.entity, b.policy`, args...)
		if err != nil {
			return nil, err
		}
		for _, b := range bs {
			out[b.Entity] = append(out[b.Entity], b)
		}
	}
	return out, nil
}

// VerdictsOf returns the current verdicts of several entities, by key: their
// levels and digests, read from the verdict rows alone.
func (s *Store) VerdictsOf(ctx context.Context, keys []string) (map[string][]badges.Verdict, error) {
	out := make(map[string][]badges.Verdict, len(keys))
	err := s.byKeys(ctx, `SELECT entity, policy, level, digest FROM badges WHERE entity IN (%s) ORDER BY entity, policy`, keys, func(rows *sql.Rows) error {
		var key string
		var v badges.Verdict
		if err := rows.Scan(&key, &v.Policy, &v.Level, &v.Digest); err != nil {
			return err
		}
		out[key] = append(out[key], v)
		return nil
	})
	return out, err
}

// Results returns a page of a policy's current verdicts, in entity order.
func (s *Store) Results(ctx context.Context, q badges.ResultQuery) ([]badges.Badge, error) {
	where, args := `b.policy = ? AND b.entity > ?`, []any{q.Policy, q.After}
	if q.ByLevel {
		where, args = where+` AND b.level = ?`, append(args, q.Level)
	}
	if q.Owner != "" {
		where, args = where+` AND b.owner = ?`, append(args, strings.ToLower(q.Owner))
	}
	limit := q.Limit
	if limit <= 0 {
		limit = -1
	}
	return s.queryBadges(ctx, `SELECT `+verdictCols+` WHERE `+where+` ORDER BY b.entity LIMIT ?`, append(args, limit)...)
}

// Tally counts a policy's current verdicts per owner and level, as the fold
// keeps them (badge_tally): it reads a row per owner and level, not the
// verdicts.
func (s *Store) Tally(ctx context.Context, policy string) ([]badges.TallyRow, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT owner, level, count FROM badge_tally WHERE policy = ? ORDER BY owner, level`, policy)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return badges.ScanTally(rows)
}

func (s *Store) queryBadges(ctx context.Context, q string, args ...any) ([]badges.Badge, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return badges.ScanBadges(rows)
}

// BadgesAt returns the entity's verdicts as they were at the instant: for
// each policy, the last change at or before it, when that change rated it.
func (s *Store) BadgesAt(ctx context.Context, key string, at history.Instant) ([]badges.Badge, error) {
	changes, err := s.EntityChanges(ctx, key)
	if err != nil {
		return nil, err
	}
	return badges.At(changes, at), nil
}

// EntityChanges returns the changes of one entity's verdicts, in log order.
func (s *Store) EntityChanges(ctx context.Context, key string) ([]badges.Change, error) {
	var out []badges.Change
	err := s.changes(ctx, `SELECT 0, position, time, event_id, type, data FROM badge_changes WHERE entity = ? ORDER BY position`, []any{key}, func(c badges.Change) bool {
		out = append(out, c)
		return true
	})
	return out, err
}

// Changes calls fn for every change of the policy's verdicts in time order.
func (s *Store) Changes(ctx context.Context, policy string, fn func(badges.Change) bool) error {
	if policy == "" {
		return s.changes(ctx, `SELECT 0, position, time, event_id, type, data FROM badge_changes ORDER BY time, position`, nil, fn)
	}
	return s.changes(ctx, `SELECT 0, position, time, event_id, type, data FROM badge_changes WHERE policy = ? ORDER BY time, position`, []any{policy}, fn)
}

func (s *Store) changes(ctx context.Context, q string, args []any, fn func(badges.Change) bool) error {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return badges.ScanChanges(rows, fn)
}
