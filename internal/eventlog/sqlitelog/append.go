package sqlitelog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"backlot.dev/backlot/domain/event"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// insertColumns are the columns an append writes, one placeholder each.
const insertColumns = 13

// maxRowsPerInsert is how many events one INSERT statement writes at most.
// A statement of many rows pays once what SQLite does for each statement
// (the AUTOINCREMENT counter read and written back in sqlite_sequence, the
// statement's start and reset) and what database/sql does for each call. The
// statements write 1, 2, 4, … maxRowsPerInsert rows (insertSizes of them), so
// any batch is written by whole statements, at most insertSizes-1 of them
// shorter than maxRowsPerInsert. 64 rows take 832 placeholders, under
// SQLite's oldest limit of 999.
const (
	insertSizes      = 7
	maxRowsPerInsert = 1 << (insertSizes - 1)
)

// insertSQL returns the INSERT statement of rows events. A failed insert
// rolls back the whole append (OR ROLLBACK) rather than the statement alone
// (the default, ABORT), which Append would roll back anyway: a statement of
// several rows that can abort alone keeps a statement journal, a copy of
// every page it changes in a temporary file, for the undo (a sixth of an
// ingester-shaped append's CPU time).
func insertSQL(rows int) string {
	var b strings.Builder
	b.WriteString(`INSERT OR ROLLBACK INTO events (
	id, source, specversion, type, subject, time,
	datacontenttype, dataschema, actor, commit_sha, correlation_id, data, link
) VALUES `)
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?)")
	}
	return b.String()
}

// Append validates the events, writes them in one transaction in the given order,
// sets each envelope's Position and returns the last position. Either every event is
// written or none is: an invalid envelope (event.Envelope.Validate), a time outside
// the years 1678–2262, a string attribute holding a NUL character, or an ID that is
// already in the log or repeated in the batch (event.ErrDuplicateID: this log keeps a
// unique index of IDs) fails the whole append,
// and positions are then left unchanged.
// Appending no events writes nothing and returns the head.
//
// Appends through one Log run one at a time, in the order they get the write
// connection; appends by several Logs on one file are serialised by SQLite, each
// waiting up to Options.BusyTimeout. Waits are woken once the transaction has
// committed. After Close, Append returns event.ErrClosed.
func (l *Log) Append(ctx context.Context, events []event.Envelope) (int64, error) {
	if l.closed.Load() {
		return 0, event.ErrClosed
	}
	if len(events) == 0 {
		return l.Head(ctx)
	}
	times := make([]int64, len(events))
	seen := make(map[string]int, len(events))
	for i := range events {
		e := &events[i]
		if err := e.Validate(); err != nil {
			return 0, fmt.Errorf("sqlitelog: append: event %d of %d: %w", i+1, len(events), err)
		}
		if name, ok := attributeWithNUL(e); ok {
			return 0, fmt.Errorf("sqlitelog: append: event %s: attribute %s holds a NUL character, which CloudEvents forbids",
				e.ID, name)
		}
		ns := e.Time.UnixNano()
		if !time.Unix(0, ns).Equal(e.Time) {
			return 0, fmt.Errorf("sqlitelog: append: event %s: time %s is outside the years 1678-2262",
				e.ID, e.Time.Format(time.RFC3339Nano))
		}
		times[i] = ns
		if j, dup := seen[e.ID]; dup {
			return 0, fmt.Errorf("sqlitelog: append: %w: event id %q is both event %d and event %d of the batch",
				event.ErrDuplicateID, e.ID, j+1, i+1)
		}
		seen[e.ID] = i
	}

	// Each event's digest depends on the event alone: they are computed
	// before the write turn, on every core, and only chained inside it.
	digests := eventDigests(events)

	select {
	case l.writing <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { <-l.writing }()

	positions, err := l.insertAll(ctx, events, times, digests)
	if err != nil {
		if errors.Is(err, event.ErrDuplicateID) {
			return 0, fmt.Errorf("sqlitelog: append: %w", err)
		}
		return 0, l.fail("append", err)
	}
	for i, p := range positions {
		events[i].Position = p
	}
	l.wake()
	return positions[len(positions)-1], nil
}

// insertAll inserts the events in one transaction, up to maxRowsPerInsert
// at a time with the prepared insert statements, and returns their
// positions; on error it rolls back.
func (l *Log) insertAll(ctx context.Context, events []event.Envelope, times []int64, digests []string) (_ []int64, err error) {
	tx, err := l.wdb.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	// The chain continues from the last event's link, read inside the write
	// transaction so that appends from several Logs on one file chain in order.
	link := event.GenesisLink
	var last string
	switch err := tx.QueryRowContext(ctx, `SELECT link FROM events ORDER BY position DESC LIMIT 1`).Scan(&last); {
	case err == nil:
		link = last
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("read the chain's last link: %w", err)
	}
	positions := make([]int64, len(events))
	args := make([]any, 0, insertColumns*min(len(events), maxRowsPerInsert))
	for lo := 0; lo < len(events); {
		// The longest statement that fits what is left.
		size := insertSizes - 1
		for 1<<size > len(events)-lo {
			size--
		}
		hi := lo + 1<<size
		args = args[:0]
		for i := lo; i < hi; i++ {
			e := &events[i]
			link = event.LinkDigest(link, digests[i])
			args = append(args,
				e.ID, e.Source, e.SpecVersion, e.Type, e.Subject, times[i],
				e.DataContentType, e.DataSchema, e.Actor, e.Commit, e.CorrelationID, []byte(e.Data), link)
		}
		res, err := tx.StmtContext(ctx, l.inserts[size]).ExecContext(ctx, args...)
		if err != nil {
			if isUniqueViolation(err) {
				return nil, duplicateIn(ctx, tx, events, lo, hi)
			}
			return nil, fmt.Errorf("insert events %s to %s: %w", events[lo].ID, events[hi-1].ID, err)
		}
		// One statement's rows take consecutive positions: with
		// AUTOINCREMENT each takes one more than the largest before it.
		end, err := res.LastInsertId()
		if err != nil {
			return nil, err
		}
		for i := lo; i < hi; i++ {
			positions[i] = end - int64(hi-1-i)
		}
		lo = hi
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return positions, nil
}

// duplicateIn returns event.ErrDuplicateID naming the first of events[lo:hi]
// whose id is already in the log: an insert of those rows failed on the
// unique index of ids (the batch's own ids were checked to be distinct).
func duplicateIn(ctx context.Context, tx *sql.Tx, events []event.Envelope, lo, hi int) error {
	for i := lo; i < hi; i++ {
		var one int
		switch err := tx.QueryRowContext(ctx, `SELECT 1 FROM events WHERE id = ?`, events[i].ID).Scan(&one); {
		case err == nil:
			return fmt.Errorf("%w: event id %q (event %d of %d) is already in the log",
				event.ErrDuplicateID, events[i].ID, i+1, len(events))
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("look for the event id already in the log: %w", err)
		}
	}
	return fmt.Errorf("%w: one of events %d to %d of %d is already in the log",
		event.ErrDuplicateID, lo+1, hi, len(events))
}

// eventDigests returns event.Digest of each event, on every core for a batch
// of more than 64 events per core (as the verifier's digestAll).
func eventDigests(events []event.Envelope) []string {
	out := make([]string, len(events))
	workers := min(runtime.GOMAXPROCS(0), len(events)/64)
	if workers < 2 {
		for i := range events {
			out[i] = event.Digest(&events[i])
		}
		return out
	}
	var wg sync.WaitGroup
	per := (len(events) + workers - 1) / workers
	for lo := 0; lo < len(events); lo += per {
		hi := min(lo+per, len(events))
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				out[i] = event.Digest(&events[i])
			}
		})
	}
	wg.Wait()
	return out
}

// attributeWithNUL returns the name of the first string attribute of e that holds a
// NUL character. The read path joins attributes with NUL (see selectColumns).
func attributeWithNUL(e *event.Envelope) (string, bool) {
	for _, a := range [...]struct{ name, value string }{
		{"id", e.ID}, {"source", e.Source}, {"specversion", e.SpecVersion}, {"type", e.Type},
		{"subject", e.Subject}, {"datacontenttype", e.DataContentType}, {"dataschema", e.DataSchema},
		{"actor", e.Actor}, {"commit", e.Commit}, {"correlationid", e.CorrelationID},
	} {
		if strings.IndexByte(a.value, 0) >= 0 {
			return a.name, true
		}
	}
	return "", false
}

// isUniqueViolation reports whether err is SQLite's UNIQUE constraint failure; the
// only UNIQUE constraint on events is its id.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}
