package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/internal/messaging"
	"backlot.dev/backlot/internal/statefeed"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/projector"
)

// projectorStore is a read model the projector role folds the log into.
type projectorStore interface {
	projector.Target
	projector.PositionReader
}

// projectorDeps are the adapters the projector role folds and rates with.
type projectorDeps struct {
	// Log is the event log.
	Log event.PartitionedLog
	// Catalog, History and Badges are the read models.
	Catalog interface {
		projectorStore
		catalogstore.Reader
	}
	// EvaluatorCatalog, when set, is the catalog the evaluator reads instead
	// of Catalog (serve: the same read model through the held-back readers'
	// pool).
	EvaluatorCatalog catalogstore.Reader
	History          projectorStore
	Badges           interface {
		projectorStore
		badging.Store
	}
	// BadgeBulkThreshold is the badge projector's BulkThreshold.
	BadgeBulkThreshold int64
	// EvaluatorBatchSize is how many events the evaluator reads at a time;
	// zero takes its default.
	EvaluatorBatchSize int
	// CatalogLoading, when set, is open while the ingester loads the
	// configured catalogs into an empty catalog read model: the catalog's
	// projector folds that load in bulk mode (projector.Options.Loading).
	CatalogLoading <-chan struct{}
	// CatalogReadAhead makes the catalog's projector read (and decode) each
	// batch while it writes the one before (projector.Options.ReadAhead).
	CatalogReadAhead bool
	// BatchSize is the catalog's and the history's projectors' batch (events
	// read, decoded and applied per transaction); zero takes the projector's
	// default.
	BatchSize int
	// HeldBackBatchSize, with CatalogFirst, is the history's and the badges'
	// projectors' batch instead (zero: BatchSize, and the badge projector's
	// default). Held back during a large ingestion, they then read every
	// partition's backlog at once, a batch per partition each.
	HeldBackBatchSize int
	// AllPartitions says this process's projectors fold every partition of
	// the log (the embedded log's one), so the evaluator waits on them
	// directly; otherwise it polls the read models' positions, which
	// projectors of other processes advance too.
	AllPartitions bool
	// Run runs the projectors until ctx ends: each over the whole log, or
	// over the partitions a consumer group assigns.
	Run func(ctx context.Context, projs ...*projector.Projector)
	// EvaluatorLease, when set, is taken before the evaluator runs, so one
	// process rates badges for the whole log; it returns the lease's release.
	EvaluatorLease func(ctx context.Context) (release func(), err error)
	// Repo collects facts.repo.
	Repo badging.RepoCollector
	// StateFeed, when set, keeps the compacted state topic on a Watermill
	// router. The embedded log has no topics: nil there.
	StateFeed *stateFeedDeps
	// CatalogFirst, when set, holds the history's and the badges' projectors
	// and the evaluator back while the catalog's projector is far behind the
	// log (catalogFirst): more than CatalogFirstBehind events of a partition
	// (default devCatalogFirstBehind), for at most CatalogFirstMaxWait a
	// read (default devCatalogFirstMaxWait; with CatalogFirstStalled, at
	// most that long without the catalog folding any of the partition). Dev
	// and serve set it: a process that folds everything shares its cores
	// with them.
	CatalogFirst        bool
	CatalogFirstBehind  int64
	CatalogFirstMaxWait time.Duration
	CatalogFirstStalled bool
	// ShortBacklog, with CatalogFirst, lets the badges' projector and the
	// evaluator read a partition at once when they have at most that many
	// of its events left to read (shortBacklog): what a fact report waits
	// for. Zero holds them back as the history.
	ShortBacklog int64
	// CatalogFirstLoading, when not nil, is closed once the process's
	// ingester loaded its configured catalogs: until then CatalogFirst holds
	// the others back even while the catalog keeps up with the log.
	CatalogFirstLoading <-chan struct{}
	// Writes, with CatalogFirst, counts the catalog requests in flight,
	// which the held-back readers yield to between their batches, for at
	// most devCatalogFirstYield (catalogFirst); dev sets it to every catalog
	// request, serve to the catalog's writes and watched files' refreshes.
	Writes *foreground
	// CatchUpBatches, with CatalogFirst, is how many batches of the history's
	// and the badges' projectors (of every partition) run at once in the
	// process; zero does not bound them. The evaluator, one reader, and the
	// state feed are held back as before, without taking turns.
	CatchUpBatches int
	// Reads, with CatchUpBatches, counts the catalog's reads in flight:
	// while there are, one batch of the history's and the badges'
	// projectors runs at a time, smaller, with pauses between them
	// (catchUpTurns). Nil counts none.
	Reads *readLoad
	// Registry receives the router's metrics.
	Registry *prometheus.Registry
	Logger   *slog.Logger
}

// stateFeedDeps are the Watermill adapters of the state feed.
type stateFeedDeps struct {
	// Publisher publishes the state messages and the poison queue's.
	Publisher message.Publisher
	// Subscriber reads the event topic in the state feed's group.
	Subscriber message.Subscriber
	// EventTopic is the event log's topic; StateTopic the compacted one;
	// PoisonTopic takes messages that keep failing.
	EventTopic, StateTopic, PoisonTopic string
}

// projectorRole is a built projector role: the projectors of the catalog, its
// history and the badges, the badge evaluator and the Watermill handlers.
type projectorRole struct {
	deps      projectorDeps
	catalog   *projector.Projector
	history   *projector.Projector
	badges    *projector.Projector
	evaluator *badging.Evaluator
	router    *message.Router
	// badgesHold is the badges' projector's gate: it gives way to the
	// evaluator's full ratings.
	badgesHold *badgesFirst
}

// newProjectorRole builds the projector role over d and records what it runs
// in m. Nothing runs before start.
func newProjectorRole(d projectorDeps, m *Manifest) (*projectorRole, error) {
	r := &projectorRole{deps: d}
	r.catalog = projector.New(d.Log, d.Catalog, projector.Options{Logger: d.Logger, BatchSize: d.BatchSize, Loading: d.CatalogLoading, ReadAhead: d.CatalogReadAhead})
	later := d.Log
	var first *catalogFirst
	if d.CatalogFirst {
		first = &catalogFirst{log: d.Log, catalog: r.catalog, behind: d.CatalogFirstBehind, maxWait: d.CatalogFirstMaxWait, stalled: d.CatalogFirstStalled, loading: d.CatalogFirstLoading}
		if first.behind <= 0 && first.maxWait <= 0 {
			first.behind, first.maxWait = devCatalogFirstBehind, devCatalogFirstMaxWait
		}
		if d.Writes != nil {
			first.writes, first.yieldWait = d.Writes, devCatalogFirstYield
		}
		if d.CatchUpBatches > 0 {
			first.turns = newServeCatchUpTurns(d.CatchUpBatches, d.Reads)
		}
		later = heldBackLog{PartitionedLog: d.Log, first: first, short: shortBacklog{first: first, most: d.ShortBacklog}}
	}
	historyBatch, badgesBatch := d.BatchSize, 0
	if d.CatalogFirst && d.HeldBackBatchSize > 0 {
		historyBatch, badgesBatch = d.HeldBackBatchSize, d.HeldBackBatchSize
	}
	// The history's and the badges' projectors read the log itself: their
	// batches go through catalogFirst as a gate, which holds a batch's read
	// and its apply together.
	// The history's batches also give way to a full badge evaluation of
	// this process (badgesFirst); the evaluator is made below.
	historyGate := &badgesFirst{inner: first.gate(), maxWait: badgesFirstMaxWait}
	r.history = projector.New(d.Log, d.History, projector.Options{Logger: d.Logger, BatchSize: historyBatch, Gate: historyGate})
	badgesGate := first.gate()
	var shortBadges *shortGate
	if first != nil && d.ShortBacklog > 0 {
		shortBadges = &shortGate{shortBacklog: shortBacklog{first: first, most: d.ShortBacklog}}
		badgesGate = shortBadges
	}
	// The badges' batches give way to a full evaluation's rating of this
	// process too (badgesFirst over NoFullRating): the evaluation waits for
	// their fold only once its last page is rated.
	r.badgesHold = &badgesFirst{inner: badgesGate, maxWait: badgesFirstMaxWait}
	r.badges = projector.New(d.Log, d.Badges, projector.Options{Logger: d.Logger, BatchSize: badgesBatch, BulkThreshold: d.BadgeBulkThreshold, Gate: r.badgesHold})
	if shortBadges != nil {
		shortBadges.applied = r.badges.Applied
	}
	var catalogWaiter, badgeWaiter projector.Waiter = &projector.PollWaiter{Reader: d.Catalog}, &projector.PollWaiter{Reader: d.Badges}
	if d.AllPartitions {
		catalogWaiter, badgeWaiter = r.catalog, r.badges
	}
	var evalCatalog catalogstore.Reader = d.Catalog
	if d.EvaluatorCatalog != nil {
		evalCatalog = d.EvaluatorCatalog
	}
	var err error
	r.evaluator, err = badging.NewEvaluator(badging.EvaluatorConfig{
		Log: later, Catalog: evalCatalog, CatalogWaiter: catalogWaiter, Store: d.Badges, StoreWaiter: badgeWaiter,
		Repo: d.Repo, BatchSize: d.EvaluatorBatchSize, Logger: d.Logger,
	})
	if err != nil {
		return nil, err
	}
	historyGate.idle = r.evaluator.NoFullEvaluation
	r.badgesHold.idle = r.evaluator.NoFullRating
	m.Roles = append(m.Roles, RoleProjector)
	m.Runners = append(m.Runners, runnerCatalogProjector, runnerHistoryProjector, runnerBadgeProjector, runnerBadgeEvaluator)
	if sf := d.StateFeed; sf != nil {
		r.router, err = messaging.NewRouter(messaging.RouterConfig{Logger: d.Logger, Registry: d.Registry, Poison: sf.Publisher, PoisonTopic: sf.PoisonTopic})
		if err != nil {
			return nil, err
		}
		// A message waits for the catalog's fold of its event: the local
		// projector's, when it folds that partition, asks the store nothing
		// (the feed's catch-up after a large ingestion would otherwise read
		// the catalog's positions once per message, on the requests' pool).
		waiter := &nearWaiter{poll: &projector.PollWaiter{Reader: d.Catalog}}
		waiter.local.Store(r.catalog)
		h := &statefeed.Handler{Reader: d.Catalog, Waiter: waiter, Publisher: sf.Publisher, Topic: sf.StateTopic}
		r.router.AddConsumerHandler(handlerStateFeed, sf.EventTopic, sf.Subscriber, first.hold(h.Handle))
		m.Handlers = append(m.Handlers, handlerStateFeed)
	}
	return r, nil
}

// start runs the projectors, the evaluator (under its lease, when there is
// one) and the router until ctx ends; wg counts them.
func (r *projectorRole) start(ctx context.Context, wg *sync.WaitGroup) {
	d := r.deps
	wg.Go(func() { d.Run(ctx, r.catalog, r.history, r.badges) })
	wg.Go(func() {
		if d.EvaluatorLease != nil {
			release, err := d.EvaluatorLease(ctx)
			if err != nil {
				return
			}
			defer release()
		}
		_ = r.evaluator.Run(ctx)
	})
	if r.router != nil {
		wg.Go(func() {
			if err := r.router.Run(ctx); err != nil && ctx.Err() == nil {
				d.Logger.Error("router stopped", "err", err)
			}
		})
	}
}

// Close closes the router.
func (r *projectorRole) Close() error {
	if r.router == nil {
		return nil
	}
	return r.router.Close()
}

// runEachOverTheLog runs every projector over the whole log: the embedded
// log's one partition.
func runEachOverTheLog(ctx context.Context, projs ...*projector.Projector) {
	var wg sync.WaitGroup
	for _, p := range projs {
		wg.Go(func() { _ = p.Run(ctx) })
	}
	wg.Wait()
}
