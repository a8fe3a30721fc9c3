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
	"backlot.dev/backlot/internal/audit"
	"backlot.dev/backlot/internal/auth"
	"backlot.dev/backlot/internal/auth/oidcauth"
	"backlot.dev/backlot/internal/catalogsvc"
	"backlot.dev/backlot/internal/codepages"
	"backlot.dev/backlot/internal/collect/repocollect"
	"backlot.dev/backlot/internal/datadir"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/internal/httpapi"
	"backlot.dev/backlot/internal/scaffoldsvc"
	"backlot.dev/backlot/internal/webhooks"
	"backlot.dev/backlot/internal/webhooks/sqlitesubs"
	"backlot.dev/backlot/projections/badges/sqlitebadges"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/history/sqlitehist"
	"backlot.dev/backlot/projections/storekit/sqlitekit"
	"backlot.dev/backlot/workflows/githost"
)

// devMemoryLimit is the Go runtime's soft memory limit in dev mode: the
// memory Go holds at rest plus the headroom a large ingestion needs. At rest
// (an idle backlot dev, after a collection) Go holds 58-62 MB: a live heap
// of about 29 MB, mostly Temporal and the packages' start-up data, 5 MB of
// goroutine stacks and the runtime's own. At 100,000 entities the live heap
// grows to 50-60 MB while ingesting and 70-80 MB while the badges are
// rated. The rest of the process is the binary's code (file-backed: 84-97
// MB resident until StartDev releases start-up's pages, 33-55 MB idle and
// 60-78 MB at the 100,000-entity peak after; package codepages) and
// SQLite's page caches (outside Go's heap: devPageCacheKiB). The headroom above the memory at rest is the one
// measured on the 20,000-entity bench (server CPU until ingested / peak
// RSS) when Go held 74-75 MB at rest: 112 MiB made it collect without pause
// (28.7 s / 268 MB), 128 MiB 17.5 s / 282 MB, 144 MiB 15.5 s / 291 MB, 200
// MiB 15.6 s / 329 MB. Temporal's lean settings (temporalsrv) took 13-17 MB
// off the memory at rest, and the limit came down by 16 MiB, so the
// collector keeps about the same headroom for the same work. The
// 100,000-entity bench, side by side with the 144 MiB limit and Temporal's
// defaults (load 21-53): peak RSS 259 -> 245 MB (anonymous 174 -> 161 MB,
// Go at its limit at the peak in both: 151 -> 134 MB), while ingesting 249
// -> 229 MB, server CPU until ingested 89.8 -> 85.2 s and for the whole
// run 157.4 -> 149.2 s. GOMEMLIMIT overrides it.
const devMemoryLimit = 128 << 20

// devCatalogCacheKiB is the page cache of the catalog's writer in dev mode.
// It holds the interior pages of the indexes the fold inserts into (about
// 2,000 pages at 100,000 entities); their leaves, touched all over by
// inserts of random keys, miss any cache this size and come from the
// operating system's page cache.
const devCatalogCacheKiB = 8192

// devHistoryCacheKiB is the page cache of the history's writer in dev mode.
// The history's tables are keyed by log position, so its writer appends at
// their right edge and only its three key indexes take inserts all over.
const devHistoryCacheKiB = 4096

// devFoldBatch is the batch of dev's catalog and history projectors. A batch
// is held in memory three times over while it is folded (the events read,
// their decoded payloads, the rows built from them): at the projector's
// default of 2,000 the catalog's alone held 32 MB at the end of an ingestion
// of 100,000 entities. A quarter of it costs one more commit per 500 events.
const devFoldBatch = 500

// devEvaluatorBatch is how many events dev's badge evaluator reads at a
// time. Its catch-up after a large ingestion holds a whole batch (events and
// their payloads): at the evaluator's default of 5,000 that was 10.7 MB of
// live heap, about twice that of Go's heap goal. (The badge projector keeps
// its 2,000: at 500 its fold cost 40% more CPU at 100k, 6.9 -> 9.7 s, for
// commits.)
const devEvaluatorBatch = 1000

// devLogReadCacheKiB is the page cache of each reader of dev's event log.
// Its readers are the projectors and the evaluator, which read the log from
// one end to the other once (a catch-up reads every page once, a tail reads
// the last few) and the audit API's pages: a larger cache only holds memory
// (slots of the shared buffer, devPageCacheKiB) that no read comes back to.
const devLogReadCacheKiB = 256

// devPageCacheKiB is the one buffer every SQLite connection of backlot dev
// takes its page cache from (sqlitekit.SharePageCache): the event log's,
// the catalog's, the history's, the badges', the webhooks' and Temporal's,
// writers and readers. A page then costs its 4,368-byte slot instead of the
// 8 KiB the allocator of modernc.org/libc gives each one, and the buffer
// bounds what all the caches hold together: once it is full, a connection
// recycles its own least recently used page rather than take another. Each
// connection's cache_size still caps its share. Sized to the pages the
// caches held together at the peak of a 100,000-entity bench (right after
// the ingestion, as the history and badges catch up): about 4,500 pages, 37
// MB in 8 KiB slots, 20 MB in these; 16 MiB holds 3,840 of them. Measured
// back to back, peak anonymous memory 223-230 -> 173-184 MB (four pairs,
// load 3-45), with the same server CPU until ingested where a pair ran side
// by side (95.8 -> 93.6 s). The buffer stays resident once written, so dev
// at rest holds all 16 MiB of it.
const devPageCacheKiB = 16384

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
	// AllowNetworks lists the networks (CIDR), addresses and host names that
	// outbound calls made for a user (webhook deliveries, git host APIs, url
	// locations) may reach although they are loopback, private, link-local
	// or otherwise refused by package netguard; entries may be
	// comma-separated. Empty: public addresses only.
	AllowNetworks []string
	// RefreshInterval is how often every location is re-read; default 30s.
	RefreshInterval time.Duration
	// Limits bound each descriptor file.
	Limits catalog.Limits
	// ExtraKinds are the kinds accepted beside the built-in ones (catalog.NewKinds).
	ExtraKinds []string
	// Logger receives the server's log; default slog.Default().
	Logger *slog.Logger
	// Pprof serves Go's profiler under /debug/pprof/.
	Pprof bool
	// AuthTokens, when set, is a token file (see package auth): reads and
	// writes then need a bearer token, and its principal is the write's actor.
	AuthTokens string
	// OIDC signs people in at an OpenID Provider (package oidcauth); its
	// sessions are sealed with the data folder's secrets key. PublicURL
	// defaults to http:// and Addr.
	OIDC oidcauth.Settings
	// PrivateBadges, with AuthTokens, makes the badge SVGs need a token too;
	// by default backlot dev serves them to anyone who reaches it, as the
	// README badges of local repositories embed them.
	PrivateBadges bool
	// Temporal, when set, starts the in-process Temporal server on
	// DataDir/temporal.db with its frontend at TemporalAddr, and a worker;
	// the scaffolder and migrations run on it. Nil runs no workflows.
	Temporal TemporalStarter
	// TemporalAddr is the Temporal frontend's address; port 0 picks one.
	TemporalAddr string
	// Scripts configures migration scripts: their sandbox and limits.
	Scripts ScriptsConfig
	// HostNames are the names the server answers to besides localhost,
	// 127.0.0.1, ::1 and the host of Addr: a request with another Host
	// header, and a write whose Origin is not the server's own, answer 403
	// (httpapi.LocalGuard), so a web page cannot reach the API through DNS
	// rebinding or post to it from another site.
	HostNames []string
	// MaxStreamsPerPrincipal caps each principal's open streams; default
	// httpapi.DefaultMaxStreamsPerPrincipal.
	MaxStreamsPerPrincipal int
	// Timeouts are the HTTP server's; zero fields take httpapi's defaults.
	Timeouts httpapi.Timeouts
	// Permissions chooses the permission policy and, without AuthTokens,
	// the guest's groups.
	Permissions PermissionsConfig
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
	if c.OIDC.Enabled() && c.OIDC.PublicURL == "" {
		c.OIDC.PublicURL = devPublicURL(c.Addr)
	}
}

// Dev is a running all-in-one server: every role on the embedded adapters.
type Dev struct {
	cfg        DevConfig
	manifest   Manifest
	log        *sqlitelog.Log
	store      *sqlitecatalog.Store
	hist       *sqlitehist.Store
	hooksStore *sqlitesubs.Store
	badges     *sqlitebadges.Store
	projector  *projectorRole
	api        *apiRole
	ingester   *ingesterRole
	server     *http.Server
	listener   net.Listener
	repos      string
	engine     *engine
	temporal   string
	stopTemp   func() error
	// codeReleased is what StartDev's release of the start-up code's pages did.
	codeReleased codepages.Released
	cancel       context.CancelFunc
	wg           sync.WaitGroup
}

// StartDev opens the embedded stores, builds every role on them (the worker
// only with cfg.Temporal), catches the read model up with the log, starts
// serving, and registers the configured catalogs in the background.
func StartDev(ctx context.Context, cfg DevConfig) (*Dev, error) {
	cfg.setDefaults()
	if os.Getenv("GOMEMLIMIT") == "" {
		// A soft limit makes the collector work harder before the heap doubles
		// during a large ingestion; GOMEMLIMIT overrides it.
		debug.SetMemoryLimit(devMemoryLimit)
	}
	// The data folder holds the secrets key and every database: 0700, its
	// files 0600, tightened at each start.
	if err := datadir.Secure(cfg.DataDir); err != nil {
		return nil, err
	}
	// Before the first SQLite connection of the process: later, SQLite
	// keeps its own allocation per page and the caches are only bounded one
	// by one.
	if err := sqlitekit.SharePageCache(devPageCacheKiB); err != nil {
		cfg.Logger.Warn("sqlite page caches not shared", "err", err)
	}
	d := &Dev{cfg: cfg}
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
	d.log, err = sqlitelog.Open(filepath.Join(cfg.DataDir, "events.db"), sqlitelog.Options{MmapSize: -1, ReadCacheKiB: devLogReadCacheKiB})
	if err != nil {
		return nil, err
	}
	log := event.SinglePartition(d.log)
	d.store, err = sqlitecatalog.Open(filepath.Join(cfg.DataDir, "catalog.db"), sqlitecatalog.Options{CacheKiB: devCatalogCacheKiB})
	if err != nil {
		return nil, err
	}
	d.hist, err = sqlitehist.Open(filepath.Join(cfg.DataDir, "history.db"), sqlitehist.Options{CacheKiB: devHistoryCacheKiB})
	if err != nil {
		return nil, err
	}
	if d.badges, err = sqlitebadges.Open(filepath.Join(cfg.DataDir, "badges.db")); err != nil {
		return nil, err
	}
	if d.hooksStore, err = sqlitesubs.Open(filepath.Join(cfg.DataDir, "webhooks.db")); err != nil {
		return nil, err
	}
	// One key seals the scaffolder's Temporal secrets and the webhook
	// subscriptions' secrets at rest.
	key, err := scaffoldsvc.LoadKey(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	sealer, err := webhooks.NewAESSealer(key)
	if err != nil {
		return nil, err
	}

	// The local git host's repositories are readable as url locations, so
	// what the scaffolder publishes can be registered.
	if d.repos, err = filepath.Abs(filepath.Join(cfg.DataDir, "repos")); err != nil {
		return nil, err
	}
	local, err := githost.NewLocal(d.repos)
	if err != nil {
		return nil, err
	}
	guard, err := newGuard(cfg.AllowNetworks)
	if err != nil {
		return nil, err
	}
	reader, err := newIngestReader(filepath.Join(cfg.DataDir, "git"), append(slices.Clone(cfg.Roots), d.repos), cfg.Catalogs, cfg.AllowedHosts, cfg.Limits, cfg.ExtraKinds, guard)
	if err != nil {
		return nil, err
	}
	reg := newRegistry()

	// The embedded log is one partition and this process folds all of it:
	// its projectors are the waiters of everything that reads. The history
	// and the badges yield to the catalog's requests (catalogFirst).
	writes := newForeground()
	// A first start folds the configured catalogs into an empty read model
	// in bulk mode (projector.Options.Loading); loading is closed once the
	// ingester loaded them, or when dev stops.
	loading := make(chan struct{})
	var catalogLoading <-chan struct{}
	if pos, err := d.store.Positions(ctx); err != nil {
		return nil, err
	} else if pos[0] == 0 && len(cfg.Catalogs) > 0 {
		catalogLoading = loading
	}
	d.projector, err = newProjectorRole(projectorDeps{
		Log: log, Catalog: d.store, History: d.hist, Badges: d.badges, BadgeBulkThreshold: -1, BatchSize: devFoldBatch, EvaluatorBatchSize: devEvaluatorBatch,
		AllPartitions: true, CatalogFirst: true, Writes: writes, Run: runEachOverTheLog, Repo: repocollect.New(reader), Registry: reg, Logger: cfg.Logger,
		// The catalog's writer is the serial part of a large load: it
		// writes one batch while the next is read and decoded.
		CatalogLoading: catalogLoading, CatalogReadAhead: true,
	}, &d.manifest)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	pos, err := d.projector.catalog.CatchUp(ctx)
	if err != nil {
		return nil, fmt.Errorf("catch up read model: %w", err)
	}
	cfg.Logger.Info("read model caught up", "position", pos, "took", time.Since(start).Round(time.Millisecond))

	service := catalogsvc.New(catalogsvc.Config{Log: log, Store: d.store, Waiter: d.projector.catalog, RefreshInterval: cfg.RefreshInterval, Reader: reader,
		Repos: repocollect.NewWatcher(reader, d.store, d.badges, cfg.Logger), Logger: cfg.Logger})
	if cfg.Temporal != nil {
		start := time.Now()
		if d.temporal, d.stopTemp, err = cfg.Temporal(ctx, filepath.Join(cfg.DataDir, "temporal.db"), cfg.TemporalAddr); err != nil {
			return nil, err
		}
		d.engine, err = newWorkflows(ctx, workflowsConfig{
			Addr: d.temporal, Namespace: "default", Key: key, WorkDir: filepath.Join(cfg.DataDir, "scaffolder"), Local: local,
			Service: service, Log: log, Reader: d.store, Logger: cfg.Logger, Guard: guard,
			// Change requests on the local host are read often: merging one
			// through the API shows in the migration within seconds.
			PollInterval: 5 * time.Second,
			Scripts:      cfg.Scripts,
			APIURL:       "http://" + cfg.Addr,
		})
		if err != nil {
			return nil, err
		}
		if err := newWorkerRole(d.engine, &d.manifest); err != nil {
			return nil, err
		}
		cfg.Logger.Info("temporal serving", "addr", d.temporal, "took", time.Since(start).Round(time.Millisecond))
	}

	runCtx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	hooks, err := startWebhooks(runCtx, webhooks.Config{Store: webhooks.SealSecrets(d.hooksStore, sealer), Log: d.log, Deliver: true, Logger: cfg.Logger, Guard: guard}, &d.manifest)
	if err != nil {
		return nil, err
	}
	d.api, err = newAPIRole(apiDeps{
		Log: log, Heads: func(ctx context.Context) (event.Positions, error) {
			head, err := d.log.Head(ctx)
			return event.Positions{0: head}, err
		},
		Catalog: d.store, CatalogWaiter: d.projector.catalog, Writer: service,
		History: d.hist, HistoryWaiter: d.projector.history,
		Audit: func(h history.Reader) httpapi.AuditLog {
			return audit.Embedded{Log: d.log, History: h}
		},
		Badges: d.badges, BadgeWaiter: d.projector.badges,
		Evaluated: d.projector.evaluator.WaitHandled, EvaluatorStats: d.projector.evaluator.Stats,
		Webhooks: hooks, Workflows: d.engine, Local: local, DataDir: cfg.DataDir, AuthTokens: cfg.AuthTokens,
		OIDC: cfg.OIDC, SessionKey: key, Guard: guard,
		PublicBadges: !cfg.PrivateBadges, Permissions: cfg.Permissions,
		// The local git host's webhooks stay open on loopback; elsewhere
		// they need BACKLOT_WEBHOOK_SECRET.
		RequireHookSecret: !auth.Loopback(cfg.Addr),
		Registry:          reg, Logger: cfg.Logger,
		MaxStreamsPerPrincipal: cfg.MaxStreamsPerPrincipal, LocalGuard: devGuard(cfg),
		Ready: func(ctx context.Context) error {
			head, err := d.log.Head(ctx)
			if err != nil {
				return fmt.Errorf("event log: %w", err)
			}
			if applied := d.projector.catalog.Applied()[0]; applied < head {
				return fmt.Errorf("read model at position %d of %d", applied, head)
			}
			return nil
		},
	}, &d.manifest)
	if err != nil {
		return nil, err
	}
	d.ingester = newIngesterRole(ingesterDeps{Service: service, Catalogs: cfg.Catalogs, Actor: DevActor, RefreshInterval: cfg.RefreshInterval, Locations: d.store.Locations, Writes: writes, Logger: cfg.Logger}, &d.manifest)

	d.listener, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	handler := markCatalogRequests(writes, d.api.handler)
	if cfg.Pprof {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		mux.Handle("/", handler)
		handler = mux
	}
	// The databases, the git host and Temporal's files were created
	// following the umask: tighten them before
	// anything runs in the background.
	if err := datadir.Secure(cfg.DataDir); err != nil {
		return nil, err
	}
	d.server = httpapi.NewHTTPServer(handler, cfg.Timeouts)
	d.projector.start(runCtx, &d.wg)
	d.wg.Go(func() {
		if err := d.server.Serve(d.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			cfg.Logger.Error("http server stopped", "err", err)
		}
	})
	d.ingester.start(runCtx, &d.wg)
	d.wg.Go(func() {
		select {
		case <-d.ingester.loaded:
		case <-runCtx.Done():
		}
		close(loading)
	})
	// Start-up is over: the pages of code and read-only data that only it
	// ran (every package's init, Temporal's construction, the stores'
	// migrations) leave the resident set; those in use come back on their
	// next use (package codepages).
	if d.codeReleased, err = codepages.Release(); err != nil {
		cfg.Logger.Warn("start-up code pages not released", "err", err)
	} else if d.codeReleased.Skipped == "" {
		cfg.Logger.Debug("start-up code pages released", "residentMB", d.codeReleased.ResidentBytes>>20, "mappings", d.codeReleased.Mappings)
	}
	ok = true
	cfg.Logger.Info("backlot dev serving", "addr", "http://"+d.listener.Addr().String(), "data", cfg.DataDir)
	return d, nil
}

// Manifest describes what this server serves: every role on the embedded
// adapters.
func (d *Dev) Manifest() Manifest { return d.manifest.sorted() }

// Addr returns the address the server listens on.
func (d *Dev) Addr() string { return d.listener.Addr().String() }

// Loaded returns a channel closed once the configured catalogs are loaded.
func (d *Dev) Loaded() <-chan struct{} { return d.ingester.loaded }

// LoadErr returns the errors of loading the configured catalogs, after Loaded.
func (d *Dev) LoadErr() error { return d.ingester.loadErr }

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
	if d.api != nil {
		errs = append(errs, d.api.Close())
	}
	if d.projector != nil {
		errs = append(errs, d.projector.Close())
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
		if err := d.projector.evaluator.WaitHandled(ctx, event.Positions{0: head}); err != nil {
			return err
		}
		if now, err := d.log.Head(ctx); err != nil || now == head {
			return err
		}
	}
}

// devGuard is the Host and Origin check of backlot dev: the loopback names,
// the host of its listen address (unless unspecified, 0.0.0.0 or ::) and
// cfg.HostNames.
func devGuard(cfg DevConfig) *httpapi.LocalGuard {
	g := &httpapi.LocalGuard{Hosts: append([]string(nil), cfg.HostNames...)}
	if host, _, err := net.SplitHostPort(cfg.Addr); err == nil && host != "" {
		if ip := net.ParseIP(host); ip == nil || !ip.IsUnspecified() {
			g.Hosts = append(g.Hosts, host)
		}
	}
	return g
}
