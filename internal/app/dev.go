package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/asof"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/internal/catalogsvc"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/internal/httpapi"
	"backlot.dev/backlot/internal/ingest"
	"backlot.dev/backlot/internal/migratesvc"
	"backlot.dev/backlot/internal/scaffoldsvc"
	"backlot.dev/backlot/internal/webhooks"
	"backlot.dev/backlot/projections/badges/sqlitebadges"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/history/sqlitehist"
	"backlot.dev/backlot/projections/projector"
	"backlot.dev/backlot/workflows/githost"
)

// devMemoryLimit is the Go heap's soft limit in dev mode.
const devMemoryLimit = 200 << 20

// DevActor is the actor of writes in dev mode, where no one signs in.
const DevActor = "user:default/guest"

// DevConfig configures Dev.
type DevConfig struct {
	// DataDir holds events.db, catalog.db and the git cache; created if missing.
	DataDir string
	// Addr is the listen address; default 127.0.0.1:7007.
	Addr string
	// Catalogs are file locations registered (or refreshed) at start.
	Catalogs []string
	// Roots are extra folders file locations may read; the folders of Catalogs
	// and the working directory are always allowed.
	Roots []string
	// AllowedHosts are the hosts url locations may read.
	AllowedHosts []string
	// RefreshInterval is how often every location is re-read; default 30s.
	RefreshInterval time.Duration
	// Limits bound each descriptor file.
	Limits catalog.Limits
	// Logger receives the server's log; default slog.Default().
	Logger *slog.Logger
	// Pprof serves Go's profiler under /debug/pprof/.
	Pprof bool
	// AuthTokens, when set, is a token file (see package auth): writes then need
	// a bearer token, and its principal is the write's actor.
	AuthTokens string
	// Temporal, when set, starts the in-process Temporal server on
	// DataDir/temporal.db with its frontend at TemporalAddr, and a worker;
	// the scaffolder and migrations run on it. Nil runs no workflows.
	Temporal TemporalStarter
	// TemporalAddr is the Temporal frontend's address; port 0 picks one.
	TemporalAddr string
}

func (c *DevConfig) setDefaults() {
	if c.DataDir == "" {
		c.DataDir = ".data"
	}
	if c.Addr == "" {
		c.Addr = "127.0.0.1:7007"
	}
	if c.RefreshInterval <= 0 {
		c.RefreshInterval = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Dev is a running all-in-one server.
type Dev struct {
	cfg        DevConfig
	log        *sqlitelog.Log
	store      *sqlitecatalog.Store
	projector  *projector.Projector
	hist       *sqlitehist.Store
	histProj   *projector.Projector
	asof       *asof.Catalogs
	hooksStore *webhooks.SQLiteStore
	badges     *sqlitebadges.Store
	badgeProj  *projector.Projector
	evaluator  *badging.Evaluator
	service    *catalogsvc.Service
	server     *http.Server
	listener   net.Listener
	local      *githost.Local
	repos      string
	engine     *engine
	temporal   string
	stopTemp   func() error
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	loaded     chan struct{}
	loadErr    error
}

// StartDev opens the stores, catches the read model up with the log, starts
// serving, and registers the configured catalogs in the background.
func StartDev(ctx context.Context, cfg DevConfig) (*Dev, error) {
	cfg.setDefaults()
	if os.Getenv("GOMEMLIMIT") == "" {
		// A soft limit makes the collector work harder before the heap doubles
		// during a large ingestion; GOMEMLIMIT overrides it.
		debug.SetMemoryLimit(devMemoryLimit)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	d := &Dev{cfg: cfg, loaded: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			if d.cancel != nil {
				d.cancel()
			}
			d.closeStores()
		}
	}()
	var err error
	// No memory-mapped reads: mapped pages count as resident memory, and the
	// server reads the log mostly at its head.
	d.log, err = sqlitelog.Open(filepath.Join(cfg.DataDir, "events.db"), sqlitelog.Options{MmapSize: -1})
	if err != nil {
		return nil, err
	}
	d.store, err = sqlitecatalog.Open(filepath.Join(cfg.DataDir, "catalog.db"), sqlitecatalog.Options{})
	if err != nil {
		return nil, err
	}
	d.projector = projector.New(event.SinglePartition(d.log), d.store, projector.Options{Logger: cfg.Logger})
	d.hist, err = sqlitehist.Open(filepath.Join(cfg.DataDir, "history.db"), sqlitehist.Options{})
	if err != nil {
		return nil, err
	}
	d.histProj = projector.New(event.SinglePartition(d.log), d.hist, projector.Options{Logger: cfg.Logger})
	if d.badges, err = sqlitebadges.Open(filepath.Join(cfg.DataDir, "badges.db")); err != nil {
		return nil, err
	}
	d.badgeProj = projector.New(event.SinglePartition(d.log), d.badges, projector.Options{Logger: cfg.Logger, BulkThreshold: -1})
	if d.asof, err = asof.New(d.hist, filepath.Join(cfg.DataDir, "asof")); err != nil {
		return nil, err
	}
	start := time.Now()
	pos, err := d.projector.CatchUp(ctx)
	if err != nil {
		return nil, fmt.Errorf("catch up read model: %w", err)
	}
	cfg.Logger.Info("read model caught up", "position", pos, "took", time.Since(start).Round(time.Millisecond))

	// The local git host's repositories are readable as url locations, so
	// what the scaffolder publishes can be registered.
	if d.repos, err = filepath.Abs(filepath.Join(cfg.DataDir, "repos")); err != nil {
		return nil, err
	}
	if d.local, err = githost.NewLocal(d.repos); err != nil {
		return nil, err
	}
	reader, err := newIngestReader(filepath.Join(cfg.DataDir, "git"), append(slices.Clone(cfg.Roots), d.repos), cfg.Catalogs, cfg.AllowedHosts, cfg.Limits)
	if err != nil {
		return nil, err
	}
	d.service = catalogsvc.New(catalogsvc.Config{Log: event.SinglePartition(d.log), Store: d.store, Waiter: d.projector, RefreshInterval: cfg.RefreshInterval, Reader: reader, Logger: cfg.Logger})
	var scaffold httpapi.Scaffolder
	var migrations httpapi.Migrations
	git := migratesvc.LocalHost{Local: d.local}
	if cfg.Temporal != nil {
		start := time.Now()
		if d.temporal, d.stopTemp, err = cfg.Temporal(ctx, filepath.Join(cfg.DataDir, "temporal.db"), cfg.TemporalAddr); err != nil {
			return nil, err
		}
		key, err := scaffoldsvc.LoadKey(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		d.engine, err = startWorkflows(ctx, workflowsConfig{
			Addr: d.temporal, Namespace: "default", Key: key, WorkDir: filepath.Join(cfg.DataDir, "scaffolder"), Local: d.local,
			Service: d.service, Log: event.SinglePartition(d.log), Reader: d.store, Worker: true, Logger: cfg.Logger,
			// Change requests on the local host are read often: merging one
			// through the API shows in the migration within seconds.
			PollInterval: 5 * time.Second,
		})
		if err != nil {
			return nil, err
		}
		scaffold, migrations = d.engine.scaffold, d.engine.migrations
		git.Client = d.engine.client
		cfg.Logger.Info("temporal serving", "addr", d.temporal, "took", time.Since(start).Round(time.Millisecond))
	}

	runCtx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	if d.hooksStore, err = webhooks.OpenStore(filepath.Join(cfg.DataDir, "webhooks.db")); err != nil {
		return nil, err
	}
	hooks, err := webhooks.Start(runCtx, webhooks.Config{Store: d.hooksStore, Log: d.log, Deliver: true, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	d.evaluator, err = badging.NewEvaluator(badging.EvaluatorConfig{
		Log: event.SinglePartition(d.log), Catalog: d.store, CatalogWaiter: d.projector, Store: d.badges, StoreWaiter: d.badgeProj,
		Repo: repoCollector(reader), Logger: cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	facts, err := badging.NewFactService(badging.FactServiceConfig{Log: event.SinglePartition(d.log), Catalog: d.store, Store: d.badges, Waiter: d.badgeProj, Evaluated: d.evaluator.WaitHandled})
	if err != nil {
		return nil, err
	}
	authn, err := authenticator(cfg.AuthTokens)
	if err != nil {
		return nil, err
	}
	handler, err := httpapi.New(httpapi.Config{
		Reader:         d.store,
		Writer:         d.service,
		Waiter:         d.projector,
		Authenticate:   authn,
		Feed:           logFeed{log: event.SinglePartition(d.log)},
		Webhooks:       hooks,
		Audit:          embeddedAudit{log: d.log, hist: caughtUpHistory{Reader: d.hist, catalog: d.store, hist: d.histProj}, scratch: cfg.DataDir},
		History:        caughtUpHistory{Reader: d.hist, catalog: d.store, hist: d.histProj},
		AsOf:           d.catalogAt,
		Badges:         d.badges,
		Facts:          facts,
		EvaluatorStats: d.evaluator.Stats,
		Scaffolder:     scaffold,
		Migrations:     migrations,
		GitHost:        git,
		Logger:         cfg.Logger,
		Ready: func(ctx context.Context) error {
			head, err := d.log.Head(ctx)
			if err != nil {
				return fmt.Errorf("event log: %w", err)
			}
			if applied := d.projector.Applied()[0]; applied < head {
				return fmt.Errorf("read model at position %d of %d", applied, head)
			}
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	d.listener, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	if cfg.Pprof {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		mux.Handle("/", handler)
		handler = mux
	}
	d.server = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}

	d.wg.Add(6)
	go func() {
		defer d.wg.Done()
		_ = d.histProj.Run(runCtx)
	}()
	go func() {
		defer d.wg.Done()
		_ = d.badgeProj.Run(runCtx)
	}()
	go func() {
		defer d.wg.Done()
		_ = d.evaluator.Run(runCtx)
	}()
	go func() {
		defer d.wg.Done()
		_ = d.projector.Run(runCtx)
	}()
	go func() {
		defer d.wg.Done()
		if err := d.server.Serve(d.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			cfg.Logger.Error("http server stopped", "err", err)
		}
	}()
	go func() {
		defer d.wg.Done()
		d.loadCatalogs(runCtx)
		d.service.RunRefreshLoop(runCtx, cfg.RefreshInterval)
	}()
	ok = true
	cfg.Logger.Info("backlot dev serving", "addr", "http://"+d.listener.Addr().String(), "data", cfg.DataDir)
	return d, nil
}

func (d *Dev) loadCatalogs(ctx context.Context) {
	defer close(d.loaded)
	var errs []error
	for _, c := range d.cfg.Catalogs {
		start := time.Now()
		loc, err := d.service.EnsureLocation(ctx, DevActor, ingest.TypeFile, c)
		if err != nil {
			d.cfg.Logger.Error("catalog not loaded", "catalog", c, "err", err)
			errs = append(errs, fmt.Errorf("%s: %w", c, err))
			continue
		}
		d.cfg.Logger.Info("catalog loaded", "catalog", c, "location", loc.ID, "took", time.Since(start).Round(time.Millisecond))
	}
	d.loadErr = errors.Join(errs...)
}

// Addr returns the address the server listens on.
func (d *Dev) Addr() string { return d.listener.Addr().String() }

// Loaded returns a channel closed once the configured catalogs are loaded.
func (d *Dev) Loaded() <-chan struct{} { return d.loaded }

// LoadErr returns the errors of loading the configured catalogs, after Loaded.
func (d *Dev) LoadErr() error { return d.loadErr }

// Close stops serving, waits for the background roles and closes the stores.
func (d *Dev) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := d.server.Shutdown(ctx)
	d.cancel()
	d.wg.Wait()
	return errors.Join(err, d.closeStores())
}

// TemporalAddr is the in-process Temporal frontend's address, "" without one.
func (d *Dev) TemporalAddr() string { return d.temporal }

// Repos is the local git host's folder of bare repositories.
func (d *Dev) Repos() string {
	return d.repos
}

// catalogAt is the catalog at an instant: the history is caught up with the
// log's present first, so an instant up to now is answered completely.
func (d *Dev) catalogAt(ctx context.Context, at history.Instant) (catalogstore.Reader, error) {
	head, err := d.log.Head(ctx)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := d.histProj.WaitFor(wctx, event.Positions{0: head}); err != nil {
		return nil, fmt.Errorf("history read model: %w", err)
	}
	return d.asof.At(ctx, at)
}

func (d *Dev) closeStores() error {
	var errs []error
	errs = append(errs, d.engine.Close())
	if d.stopTemp != nil {
		errs = append(errs, d.stopTemp())
		d.stopTemp = nil
	}
	if d.hooksStore != nil {
		errs = append(errs, d.hooksStore.Close())
	}
	if d.asof != nil {
		errs = append(errs, d.asof.Close())
	}
	if d.badges != nil {
		errs = append(errs, d.badges.Close())
	}
	if d.hist != nil {
		errs = append(errs, d.hist.Close())
	}
	if d.store != nil {
		errs = append(errs, d.store.Close())
	}
	if d.log != nil {
		errs = append(errs, d.log.Close())
	}
	return errors.Join(errs...)
}

// WaitBadges blocks until the badge evaluator has rated everything the log
// holds (its own events included) or ctx ends.
func (d *Dev) WaitBadges(ctx context.Context) error {
	for {
		head, err := d.log.Head(ctx)
		if err != nil {
			return err
		}
		if err := d.evaluator.WaitHandled(ctx, event.Positions{0: head}); err != nil {
			return err
		}
		if now, err := d.log.Head(ctx); err != nil || now == head {
			return err
		}
	}
}

// LogHead returns the position of the last event of the log.
func (d *Dev) LogHead(ctx context.Context) (int64, error) { return d.log.Head(ctx) }
