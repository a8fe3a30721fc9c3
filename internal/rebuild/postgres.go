package rebuild

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/kafkalog"
	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
	"backlot.dev/backlot/projections/projector"
)

// defaultBulkMin is the default PostgresOptions.BulkMin: below it, building
// the indexes again costs more than it saves.
const defaultBulkMin = 20000

// PostgresOptions configures PostgresCatalog.
type PostgresOptions struct {
	// Brokers and TopicPrefix name the Kafka event topic to replay; required.
	Brokers     []string
	TopicPrefix string
	// PostgresURL is the database of the catalog read model; required. A
	// fresh database is replayed from the start; one that already holds
	// positions is carried on from them.
	PostgresURL string
	// Group is the Kafka consumer group the members join; required. Members
	// of one group share the topic's partitions, each partition folded by one
	// member at a time, as serve's projector processes do.
	Group string
	// Members is how many projectors share the partitions; default 1. Each has
	// its own Kafka client and its own pool of PostgreSQL connections.
	Members int
	// BatchSize is how many events a projector reads and applies per
	// transaction; 0 is the projector's default.
	BatchSize int
	// BulkMin is the least backlog that is folded in bulk into a fresh read
	// model (one with no positions yet): without the indexes that take keys at
	// random places, built once at the end (pgcatalog.Store.BeginReplay).
	// Queries of the read model during the replay are slower, not wrong; a
	// replay stopped part-way leaves the indexes to the next Open of a store.
	// Default 20000 events; negative never folds in bulk.
	BulkMin int64
	// Progress, if not nil, receives a line a second with the events applied.
	Progress io.Writer
	// Logger receives the members' errors; default slog.Default().
	Logger *slog.Logger
}

// Validate reports the first missing required option.
func (o PostgresOptions) Validate() error {
	switch {
	case len(o.Brokers) == 0:
		return errors.New("rebuild: no Kafka brokers")
	case o.PostgresURL == "":
		return errors.New("rebuild: no PostgreSQL URL")
	case o.Group == "":
		return errors.New("rebuild: no consumer group")
	}
	return nil
}

func (o *PostgresOptions) setDefaults() {
	if o.Members <= 0 {
		o.Members = 1
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.BulkMin == 0 {
		o.BulkMin = defaultBulkMin
	}
}

// PostgresCatalog folds the Kafka event topic into the PostgreSQL catalog read
// model with o.Members projectors in one consumer group, the way that many
// `backlot serve --roles projector` processes do (kafkalog.Log.RunGroup and
// projector.RunPartitions), until the read model has applied every event the
// topic held when it started. The stats count the events applied in this call.
// Stopped early (ctx ends), it returns ctx's error; the positions the read
// model recorded with its rows let a later call carry on with nothing lost or
// applied twice.
func PostgresCatalog(ctx context.Context, o PostgresOptions) (Stats, error) {
	if err := o.Validate(); err != nil {
		return Stats{}, err
	}
	o.setDefaults()
	watch, err := pgcatalog.Open(ctx, o.PostgresURL, pgcatalog.Options{MaxConns: 2})
	if err != nil {
		return Stats{}, err
	}
	defer watch.Close()
	log, err := kafkalog.Open(ctx, kafkalog.Options{Brokers: o.Brokers, TopicPrefix: o.TopicPrefix, ReplicationFactor: 1, Logger: o.Logger})
	if err != nil {
		return Stats{}, err
	}
	heads, err := log.Heads(ctx)
	log.Close()
	if err != nil {
		return Stats{}, err
	}
	from, err := watch.Positions(ctx)
	if err != nil {
		return Stats{}, err
	}
	todo := sum(heads) - sum(from)
	// A fresh read model with a long log ahead is folded without the indexes
	// that take keys at random places, and they are built once at the end: the
	// rebuild path of the embedded catalog, for PostgreSQL. The members' own
	// Stores share the database, so they fold without them too.
	bulk := len(from) == 0 && o.BulkMin > 0 && todo >= o.BulkMin

	// Every member's store is opened before a bulk load begins: opening a
	// store builds the indexes a bulk load dropped.
	stores := make([]*pgcatalog.Store, o.Members)
	defer func() {
		for _, st := range stores {
			if st != nil {
				st.Close()
			}
		}
	}()
	for i := range stores {
		if stores[i], err = pgcatalog.Open(ctx, o.PostgresURL, pgcatalog.Options{}); err != nil {
			return Stats{}, err
		}
	}
	start := time.Now()
	if bulk {
		for _, st := range stores {
			if err := st.BeginReplay(ctx); err != nil {
				return Stats{}, err
			}
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	errs := make([]error, o.Members)
	var wg sync.WaitGroup
	for i, st := range stores {
		wg.Go(func() { errs[i] = runMember(runCtx, st, o) })
	}
	waitErr := waitCovered(ctx, watch, heads, from, start, o.Progress)
	took := time.Since(start)
	stop()
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return Stats{}, err
	}
	if waitErr != nil {
		return Stats{}, waitErr
	}
	if bulk {
		if err := watch.EndBulk(ctx); err != nil {
			return Stats{}, err
		}
		took = time.Since(start)
	}
	return Stats{Events: todo, Took: took}, nil
}

// runMember is one projector of the group, with its own Kafka client and store,
// folding the partitions the group assigns it until ctx ends.
func runMember(ctx context.Context, store *pgcatalog.Store, o PostgresOptions) error {
	log, err := kafkalog.Open(ctx, kafkalog.Options{Brokers: o.Brokers, TopicPrefix: o.TopicPrefix, ReplicationFactor: 1, Logger: o.Logger})
	if err != nil {
		return err
	}
	defer log.Close()
	proj := projector.New(log, store, projector.Options{BatchSize: o.BatchSize, Logger: o.Logger})
	err = log.RunGroup(ctx, o.Group, func(ctx context.Context, parts []int32) {
		_ = proj.RunPartitions(ctx, parts)
	})
	if ctx.Err() != nil && (err == nil || errors.Is(err, event.ErrClosed)) {
		return nil
	}
	return err
}

// waitCovered polls the read model's positions until they cover heads.
func waitCovered(ctx context.Context, store *pgcatalog.Store, heads, from event.Positions, start time.Time, progress io.Writer) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	last := time.Now()
	for {
		pos, err := store.Positions(ctx)
		if err == nil && pos.Covers(heads) {
			if progress != nil {
				fmt.Fprintln(progress)
			}
			return nil
		}
		if progress != nil && err == nil && time.Since(last) >= time.Second {
			last = time.Now()
			done := sum(pos) - sum(from)
			fmt.Fprintf(progress, "\rcatalog: applied %d/%d events (%.0f events/s)", done, sum(heads)-sum(from), float64(done)/time.Since(start).Seconds())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func sum(p event.Positions) int64 {
	var s int64
	for _, v := range p {
		s += v
	}
	return s
}
