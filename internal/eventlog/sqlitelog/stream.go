package sqlitelog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/storekit/sqlitekit"
)

// StreamOptions selects what Stream reads.
type StreamOptions struct {
	// Before, when set, leaves out the events whose time is at or after it,
	// as ReadFiltered's Filter.To does.
	Before time.Time
	// Batch is how many events each call of the callback gets at most.
	// Default 1000.
	Batch int
	// Lean reads of each event only its position, id, type, subject and
	// data, what a fold of the catalog needs; its other attributes and its
	// time are left empty. It saves about a third of the read's CPU.
	Lean bool
	// Readers is how many connections read the log at once. Above 1, the
	// positions up to the last one when Stream begins are read a range of
	// Batch positions at a time, each reader taking its turn, one query a
	// range, and the batches are still handed over in position order: on
	// more cores than one, reading takes about 1/Readers of the time, for
	// the same CPU. Each range is read in its own snapshot, which differs
	// from one read in one snapshot only in the appends made meanwhile,
	// which are left out either way. Default 1: one query.
	Readers int
	// SkipData names event types whose data the callback does not need:
	// their events are handed over with Data nil, and their data is never
	// copied out of the file (what a fold that skips them would otherwise
	// read, allocate and collect). Events of other types carry their data.
	SkipData []string
	// Reuse lets Stream hand over the same batch slices again once the
	// callback has returned: the callback keeps none of the slices it is
	// called with (it may keep the events' strings and Data, which are
	// never reused). A fold that keeps only what it reads from events
	// saves allocating, and the kernel mapping, a new batch every call.
	// It applies to one reader (Readers at most 1).
	Reuse bool
}

// streamColumns is the select list and its arguments of Stream's queries:
// the columns (lean or not), with the data of the types opts.SkipData names
// read as NULL.
func streamColumns(opts StreamOptions) (string, []any) {
	cols := selectColumns
	if opts.Lean {
		cols = selectLeanColumns
	}
	if len(opts.SkipData) == 0 {
		return cols, nil
	}
	args := make([]any, len(opts.SkipData))
	for i, t := range opts.SkipData {
		args[i] = t
	}
	skipped := `CASE WHEN type IN (?` + strings.Repeat(`, ?`, len(args)-1) + `) THEN NULL ELSE data END FROM events`
	return strings.TrimSuffix(cols, `data FROM events`) + skipped, args
}

// Stream reads the event log in the SQLite file at path from its first event
// to its last, in position order, and calls each with the events in batches,
// without opening the file for writing: no schema is created or upgraded, no
// chain is filled in, and the file must exist. It reads in one snapshot with
// a single query while each runs, handing a batch over as soon as it is read,
// so reading and the callback overlap on two cores. A batch's events and
// their Data belong to the callback (nothing reuses them; with Reuse, the
// batch slice itself is handed over again). Stream stops at
// the first error of each or of the read, or when ctx is done, and returns it.
// It may run while another process appends to the file; appends made after
// it began are not read.
func Stream(ctx context.Context, path string, opts StreamOptions, each func([]event.Envelope) error) error {
	if opts.Batch <= 0 {
		opts.Batch = 1000
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("sqlitelog: stream %s: %w", path, err)
	}
	// The whole file is mapped: a page past the map is read by a system
	// call into SQLite's cache instead, which cost a 389 MB log's last third
	// about twice the CPU per page.
	mm := strconv.FormatInt(max(int64(defaultMmapSize), fi.Size()), 10)
	if opts.Readers > 1 {
		db, err := sql.Open("sqlite", sqlitekit.DSN(path, "busy_timeout(5000)", "query_only(1)",
			"mmap_size("+mm+")", "cache_size(-8192)")+"&mode=ro")
		if err != nil {
			return fmt.Errorf("sqlitelog: stream %s: %w", path, err)
		}
		defer db.Close()
		db.SetMaxOpenConns(opts.Readers)
		return streamRanges(ctx, path, db, opts, each)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []event.Envelope, 4)
	// free holds the batches handed over and returned (opts.Reuse).
	var free chan []event.Envelope
	if opts.Reuse {
		free = make(chan []event.Envelope, cap(batches)+2)
	}
	read := make(chan error, 1)
	go func() {
		defer close(batches)
		read <- streamRows(ctx, path, mm, opts, batches, free)
	}()
	for batch := range batches {
		if err := each(batch); err != nil {
			cancel()
			for range batches {
			}
			<-read
			return err
		}
		if free != nil {
			select {
			case free <- batch[:0]:
			default:
			}
		}
	}
	if err := <-read; err != nil {
		return fmt.Errorf("sqlitelog: stream %s: %w", path, err)
	}
	return ctx.Err()
}

// streamRows runs Stream's query on its own connection (mapping mmapSize
// bytes of the file) and sends its rows in batches. It reads through
// SQLite's own interface (see rawConn): each batch's events share one
// allocation for their data and one for their attributes. A batch comes
// from free when it holds one (see StreamOptions.Reuse).
func streamRows(ctx context.Context, path, mmapSize string, opts StreamOptions, batches chan<- []event.Envelope, free <-chan []event.Envelope) error {
	c, err := openRaw(path, "PRAGMA busy_timeout=5000", "PRAGMA query_only=1",
		"PRAGMA mmap_size="+mmapSize, "PRAGMA cache_size=-8192")
	if err != nil {
		return err
	}
	defer c.close()
	cols, args := streamColumns(opts)
	q := cols + ` ORDER BY position`
	if !opts.Before.IsZero() {
		q, args = cols+` WHERE time < ? ORDER BY position`, append(args, clampUnixNano(opts.Before))
	}
	stmt, err := c.prepare(q)
	if err != nil {
		if isMissingTable(err) {
			return errors.New("no events table: not a Backlot event log")
		}
		return err
	}
	defer stmt.close()
	if err := stmt.bind(args); err != nil {
		return err
	}
	var (
		attrs [packedAttributes]string
		// data and text hold the batch's data and attributes; their
		// sizes start from the last batch's.
		data, text   batchBytes
		dataN, textN = 64 << 10, 16 << 10
		batch        []event.Envelope
	)
	start := func() {
		select {
		case batch = <-free:
		default:
			batch = make([]event.Envelope, 0, opts.Batch)
		}
		data.reset(dataN + dataN/8)
		text.reset(textN + textN/8)
		dataN, textN = 0, 0
	}
	start()
	for {
		more, err := stmt.step()
		if err != nil {
			return err
		}
		if !more {
			break
		}
		batch = batch[:len(batch)+1]
		e := &batch[len(batch)-1]
		*e = event.Envelope{Position: stmt.int64(0)}
		if opts.Lean {
			packed := stmt.bytes(1)
			textN += len(packed)
			if !splitNUL(text.str(packed), attrs[:3]) {
				return fmt.Errorf("event at position %d: stored attributes hold a NUL character", e.Position)
			}
			e.ID, e.Type, e.Subject = attrs[0], attrs[1], attrs[2]
			b := stmt.bytes(2)
			dataN += len(b)
			e.Data = data.copy(b)
		} else {
			ns := stmt.int64(1)
			packed := stmt.bytes(2)
			textN += len(packed)
			if err := unpack(e, ns, text.str(packed), &attrs); err != nil {
				return err
			}
			b := stmt.bytes(3)
			dataN += len(b)
			e.Data = data.copy(b)
		}
		if len(batch) == opts.Batch {
			select {
			case batches <- batch:
			case <-ctx.Done():
				return ctx.Err()
			}
			start()
		}
	}
	if len(batch) > 0 {
		select {
		case batches <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// batchBytes copies the columns of a batch's rows into shared memory: each
// copy is its own part of a buffer that is never written again, which a new
// buffer replaces when it is full (the parts copied before keep the old one).
type batchBytes struct{ buf []byte }

// reset starts a new buffer of size bytes for the next batch.
func (b *batchBytes) reset(size int) { b.buf = make([]byte, 0, size) }

// copy returns a copy of p (nil when p is empty), whose capacity ends with
// it: appending to it does not write over the next one.
func (b *batchBytes) copy(p []byte) []byte {
	if len(p) == 0 {
		return nil
	}
	if len(b.buf)+len(p) > cap(b.buf) {
		b.buf = make([]byte, 0, max(2*cap(b.buf), len(p), 4<<10))
	}
	n := len(b.buf)
	b.buf = append(b.buf, p...)
	return b.buf[n:len(b.buf):len(b.buf)]
}

// str returns a copy of p as a string.
func (b *batchBytes) str(p []byte) string {
	c := b.copy(p)
	if len(c) == 0 {
		return ""
	}
	return unsafe.String(&c[0], len(c))
}

// scanStreamed reads the event of the current row of Stream's query.
func scanStreamed(rows *sql.Rows, lean bool, attrs *[packedAttributes]string) (event.Envelope, error) {
	var (
		e      event.Envelope
		ns     int64
		packed string
	)
	if lean {
		if err := rows.Scan(&e.Position, &packed, (*driverBytes)(&e.Data)); err != nil {
			return e, err
		}
		if !splitNUL(packed, attrs[:3]) {
			return e, fmt.Errorf("event at position %d: stored attributes hold a NUL character", e.Position)
		}
		e.ID, e.Type, e.Subject = attrs[0], attrs[1], attrs[2]
		return e, nil
	}
	if err := rows.Scan(&e.Position, &ns, &packed, (*driverBytes)(&e.Data)); err != nil {
		return e, err
	}
	return e, unpack(&e, ns, packed, attrs)
}

// streamRanges is Stream with opts.Readers connections (no more than there
// are ranges): reader j reads the ranges j, j+R, j+2R… (R readers) of Batch
// positions from the first event to the last when it begins, each range
// (empty or not) a batch on its channel, and each is called with the
// batches in turn.
func streamRanges(ctx context.Context, path string, db *sql.DB, opts StreamOptions, each func([]event.Envelope) error) error {
	fail := func(err error) error { return fmt.Errorf("sqlitelog: stream %s: %w", path, err) }
	var first, last sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT min(position), max(position) FROM events`).Scan(&first, &last); err != nil {
		if isMissingTable(err) {
			err = errors.New("no events table: not a Backlot event log")
		}
		return fail(err)
	}
	if !last.Valid {
		return ctx.Err()
	}
	cols, args := streamColumns(opts)
	// The range's bounds are the arguments at rangeAt and rangeAt+1.
	rangeAt := len(args)
	q := cols + ` WHERE position >= ? AND position < ? ORDER BY position`
	args = append(args, nil, nil)
	if !opts.Before.IsZero() {
		q, args = cols+` WHERE position >= ? AND position < ? AND time < ? ORDER BY position`, append(args, clampUnixNano(opts.Before))
	}
	ranges := (last.Int64-first.Int64)/int64(opts.Batch) + 1

	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A reader without a range would only open a connection.
	readers := int(min(int64(opts.Readers), ranges))
	chans := make([]chan []event.Envelope, readers)
	errs := make([]error, readers)
	var wg sync.WaitGroup
	for j := range chans {
		chans[j] = make(chan []event.Envelope, 2)
		wg.Go(func() {
			defer close(chans[j])
			if errs[j] = readRanges(ctx, db, q, args, rangeAt, opts, readers, first.Int64, ranges, j, chans[j]); errs[j] != nil {
				cancel()
			}
		})
	}
	var err error
	k := int64(0)
	for ; k < ranges && err == nil; k++ {
		batch, ok := <-chans[k%int64(readers)]
		if !ok {
			break // its reader failed, or ctx is done
		}
		if len(batch) > 0 {
			err = each(batch)
		}
	}
	cancel()
	for _, c := range chans {
		for range c {
		}
	}
	wg.Wait()
	if err != nil {
		return err
	}
	if k == ranges {
		// Every range was handed over: what a reader met after (the
		// cancellation that ends the stream) does not matter.
		return nil
	}
	if err := parent.Err(); err != nil {
		return fail(err)
	}
	// The reader that failed first, not one its failure stopped.
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return fail(err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fail(err)
	}
	return nil
}

// readRanges reads the ranges of streamRanges' reader j on one connection
// and sends each as a batch; the range's bounds go to args[rangeAt] and
// args[rangeAt+1].
func readRanges(ctx context.Context, db *sql.DB, q string, args []any, rangeAt int, opts StreamOptions, readers int, first, ranges int64, j int, out chan<- []event.Envelope) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	stmt, err := conn.PrepareContext(ctx, q)
	if err != nil {
		return err
	}
	defer stmt.Close()
	var attrs [packedAttributes]string
	args = slices.Clone(args)
	for k := int64(j); k < ranges; k += int64(readers) {
		lo := first + k*int64(opts.Batch)
		args[rangeAt], args[rangeAt+1] = lo, lo+int64(opts.Batch)
		rows, err := stmt.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		batch := make([]event.Envelope, 0, opts.Batch)
		for rows.Next() {
			e, err := scanStreamed(rows, opts.Lean, &attrs)
			if err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, e)
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return err
		}
		rows.Close()
		select {
		case out <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// selectLeanColumns selects what StreamOptions.Lean reads of an event: its
// position, its id, type and subject joined by NUL characters (as
// selectColumns joins them), and data.
const selectLeanColumns = `SELECT position, id || char(0) || type || char(0) || subject, data FROM events`

// isMissingTable reports an error of a query on a file without the events
// table.
func isMissingTable(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no such table")
}
