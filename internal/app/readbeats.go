package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The catalog's reads of a split deployment reach its projector processes
// through PostgreSQL's LISTEN/NOTIFY on the read models' database, which
// every role already uses (no new service): an api process without the
// projector role notifies readsChannel at most every readBeat while its
// catalog reads are in flight (tellReads), and every projector process
// listens on one connection of its own and counts each notification as a
// read in flight for heardLinger (hearReads), so its catch-up gives way to
// the api's reads as serve's does to its own (catchUpTurns). An idle api
// sends nothing; a busy one sends at most 1/readBeat statements a second,
// off its requests' path. Notifications stay within one database, so
// deployments on one server do not hear each other. When the listening
// connection fails, the projector hears nothing until it is back (the
// catch-up then runs as it would with no reads) and tries again every
// hearRetry.

// readsChannel is the notification channel of the catalog's reads.
const readsChannel = "backlot_catalog_reads"

// readBeat is the shortest time between two notifications of one api
// process while its reads go on.
const readBeat = 20 * time.Millisecond

// heardLinger is how long a notification counts as a read in flight in the
// projector: four beats (a busy api's notification may come late: it waits
// for a connection of its pool and the database's round trip) and the
// linger of a read that ended (readLinger).
const heardLinger = 4*readBeat + readLinger

// hearRetry is the wait before the projector listens again after its
// listening connection failed.
const hearRetry = time.Second

// notifier sends a statement: a pgx pool or connection.
type notifier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// tellReads notifies readsChannel on db when a read begins in r, and again
// every readBeat while reads are in flight, until ctx ends. A failed
// notification is logged once until one succeeds again.
func tellReads(ctx context.Context, db notifier, r *readLoad, logger *slog.Logger) {
	failing := false
	for {
		select {
		case <-r.began:
		case <-ctx.Done():
			return
		}
		for {
			_, err := db.Exec(ctx, "SELECT pg_notify($1, '')", readsChannel)
			switch {
			case err != nil && ctx.Err() != nil:
				return
			case err != nil && !failing:
				failing = true
				logger.Warn("the projector cannot be told of the catalog's reads: its catch-up will not give way to them", "err", err)
			case err == nil && failing:
				failing = false
				logger.Info("the projector is told of the catalog's reads again")
			}
			timer := time.NewTimer(readBeat)
			select {
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
				return
			}
			began := false
			select {
			case <-r.began:
				began = true
			default:
			}
			if busy, _ := r.state(time.Now()); !busy && !began {
				break
			}
		}
	}
}

// hearReads listens on readsChannel through a connection of its own to dsn
// and counts every notification in r (readLoad.heard) until ctx ends; when
// the connection fails it logs once and listens again after hearRetry.
func hearReads(ctx context.Context, dsn string, r *readLoad, logger *slog.Logger) {
	failing := false
	for {
		err := listenReads(ctx, dsn, r, func() {
			if failing {
				failing = false
				logger.Info("the catalog's reads of other processes are heard again")
			}
		})
		if ctx.Err() != nil {
			return
		}
		if !failing {
			failing = true
			logger.Warn("the catalog's reads of other processes are not heard: the catch-up will not give way to them until they are", "err", err)
		}
		timer := time.NewTimer(hearRetry)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return
		}
	}
}

// listenReads connects to dsn, listens on readsChannel (then calls
// listening) and counts each notification in r, until the connection fails
// or ctx ends.
func listenReads(ctx context.Context, dsn string, r *readLoad, listening func()) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+readsChannel); err != nil {
		return err
	}
	listening()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		r.heard(time.Now())
	}
}
