package sqlitelog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

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
}

// Stream reads the event log in the SQLite file at path from its first event
// to its last, in position order, and calls each with the events in batches,
// without opening the file for writing: no schema is created or upgraded, no
// chain is filled in, and the file must exist. It reads in one snapshot with
// a single query while each runs, handing a batch over as soon as it is read,
// so reading and the callback overlap on two cores. A batch's events and
// their Data belong to the callback (nothing reuses them). Stream stops at
// the first error of each or of the read, or when ctx is done, and returns it.
// It may run while another process appends to the file; appends made after
// it began are not read.
func Stream(ctx context.Context, path string, opts StreamOptions, each func([]event.Envelope) error) error {
	if opts.Batch <= 0 {
		opts.Batch = 1000
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("sqlitelog: stream %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", sqlitekit.DSN(path, "busy_timeout(5000)", "query_only(1)",
		"mmap_size("+strconv.Itoa(defaultMmapSize)+")", "cache_size(-8192)")+"&mode=ro")
	if err != nil {
		return fmt.Errorf("sqlitelog: stream %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []event.Envelope, 4)
	read := make(chan error, 1)
	go func() {
		defer close(batches)
		read <- streamRows(ctx, db, opts, batches)
	}()
	for batch := range batches {
		if err := each(batch); err != nil {
			cancel()
			for range batches {
			}
			<-read
			return err
		}
	}
	if err := <-read; err != nil {
		return fmt.Errorf("sqlitelog: stream %s: %w", path, err)
	}
	return ctx.Err()
}

// streamRows runs Stream's query and sends its rows in batches.
func streamRows(ctx context.Context, db *sql.DB, opts StreamOptions, batches chan<- []event.Envelope) error {
	cols := selectColumns
	if opts.Lean {
		cols = selectLeanColumns
	}
	q, args := cols+` ORDER BY position`, []any(nil)
	if !opts.Before.IsZero() {
		q, args = cols+` WHERE time < ? ORDER BY position`, []any{clampUnixNano(opts.Before)}
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		if isMissingTable(err) {
			return errors.New("no events table: not a Backlot event log")
		}
		return err
	}
	defer rows.Close()
	var attrs [packedAttributes]string
	batch := make([]event.Envelope, 0, opts.Batch)
	send := func() bool {
		select {
		case batches <- batch:
			batch = make([]event.Envelope, 0, opts.Batch)
			return true
		case <-ctx.Done():
			return false
		}
	}
	for rows.Next() {
		var (
			e      event.Envelope
			ns     int64
			packed string
		)
		if opts.Lean {
			if err := rows.Scan(&e.Position, &packed, (*driverBytes)(&e.Data)); err != nil {
				return err
			}
			if !splitNUL(packed, attrs[:3]) {
				return fmt.Errorf("event at position %d: stored attributes hold a NUL character", e.Position)
			}
			e.ID, e.Type, e.Subject = attrs[0], attrs[1], attrs[2]
			batch = append(batch, e)
			if len(batch) == opts.Batch && !send() {
				return ctx.Err()
			}
			continue
		}
		if err := rows.Scan(&e.Position, &ns, &packed, (*driverBytes)(&e.Data)); err != nil {
			return err
		}
		if err := unpack(&e, ns, packed, &attrs); err != nil {
			return err
		}
		batch = append(batch, e)
		if len(batch) == opts.Batch && !send() {
			return ctx.Err()
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(batch) > 0 && !send() {
		return ctx.Err()
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
