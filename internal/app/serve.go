package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"backlot.dev/backlot/internal/auth/oidcauth"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/internal/audit"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/internal/catalogsvc"
	"backlot.dev/backlot/internal/collect/repocollect"
	"backlot.dev/backlot/internal/datadir"
	"backlot.dev/backlot/internal/eventlog/kafkalog"
	"backlot.dev/backlot/internal/httpapi"
	"backlot.dev/backlot/internal/messaging"
	"backlot.dev/backlot/internal/pglease"
	"backlot.dev/backlot/internal/scaffoldsvc"
	"backlot.dev/backlot/internal/statefeed"
	"backlot.dev/backlot/internal/webhooks"
	"backlot.dev/backlot/internal/webhooks/pgsubs"
	"backlot.dev/backlot/projections/badges/pgbadges"
	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
	"backlot.dev/backlot/projections/history"
	"backlot.dev/backlot/projections/history/pghist"
	"backlot.dev/backlot/projections/projector"
	"backlot.dev/backlot/workflows/githost"
)

// The roles `backlot serve` runs.
const (
	RoleAPI       = "api"
	RoleProjector = "projector"
	RoleIngester  = "ingester"
	// RoleWorker runs the scaffolder's and migrations' Temporal workers.
	RoleWorker = "worker"
)

// Roles lists every role serve knows, in the order help shows them.
var Roles = []string{RoleAPI, RoleProjector, RoleIngester, RoleWorker}

// writePoolConns is the size of the connection pool of a serve process's
// catalog writes, apart from the pool its readers share.
const writePoolConns = 4

// factsPoolConns is the size of the connection pool of an api process's
// fact reports (their reads and their waits), apart from the readers'.
const factsPoolConns = 2

// ServeActor is the actor of writes made by the ingester role itself (the
// --catalog locations it registers at start).
const ServeActor = "service:backlot/ingester"

// ServeConfig configures StartServe.
type ServeConfig struct {
	// Roles are the roles this process runs.
	Roles []string
	// MaxStreamsPerPrincipal caps each principal's open streams; default
	// httpapi.DefaultMaxStreamsPerPrincipal.
	MaxStreamsPerPrincipal int
	// Timeouts are the HTTP server's; zero fields take httpapi's defaults.
	Timeouts httpapi.Timeouts
	// Addr is the listen address of the API, health and metrics; default :7007.
	Addr string
	// KafkaBrokers are the bootstrap brokers of the event log.
	KafkaBrokers []string
	// TopicPrefix prefixes every topic; default "backlot.".
	TopicPrefix string
	// Partitions and ReplicationFactor shape the topics Backlot creates.
	Partitions, ReplicationFactor int
	// Group is the projectors' consumer group; default backlot-projector. The
	// state feed's group is Group + "-state".
	Group string
	// PostgresURL is the read models' database.
	PostgresURL string
	// TemporalAddress is the Temporal frontend of the workflow roles.
	TemporalAddress string
	// Scripts configures migration scripts: their sandbox and limits.
	Scripts ScriptsConfig
	// Catalogs are locations the ingester registers (or refreshes) at start.
	Catalogs []string
	// Roots are folders file locations may read.
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
	// DataDir holds the git cache; default a folder under the system temp dir.
	DataDir string
	// Limits bound each descriptor file.
	Limits catalog.Limits
	// ExtraKinds are the kinds accepted beside the built-in ones (catalog.NewKinds).
	ExtraKinds []string
	// AuthTokens, when set, is a token file (see package auth): reads and
	// writes then need a bearer token, and its principal is the write's actor.
	// backlot serve refuses to start without it unless --insecure-no-auth
	// (auth.CheckStart).
	AuthTokens string
	// OIDC signs people in at an OpenID Provider (package oidcauth) on the
	// api role; PublicURL is required with it. Browser sessions are sealed
	// with BACKLOT_SECRETS_KEY, which every api process must share.
	OIDC oidcauth.Settings
	// PublicBadges serves the badge SVGs without a token, so README files
	// can embed them.
	PublicBadges bool
	// Permissions chooses the permission policy and, without AuthTokens
	// (--insecure-no-auth), the guest's groups.
	Permissions PermissionsConfig
	// Holder names this process in location leases; default a name unique to
	// the process (see pglease.UniqueHolder).
	Holder string
	// Logger receives the log; default slog.Default().
	Logger *slog.Logger
}

func (c *ServeConfig) setDefaults() error {
	if len(c.Roles) == 0 {
		// Every role; the worker only when there is a Temporal to work for.
		c.Roles = []string{RoleAPI, RoleProjector, RoleIngester}
		if c.TemporalAddress != "" {
			c.Roles = append(c.Roles, RoleWorker)
		}
	}
	for i, r := range c.Roles {
		r = strings.ToLower(strings.TrimSpace(r))
		if !slices.Contains(Roles, r) {
			return fmt.Errorf("serve: unknown role %q (roles: %s)", r, strings.Join(Roles, ", "))
		}
		c.Roles[i] = r
	}
	if slices.Contains(c.Roles, RoleWorker) && c.TemporalAddress == "" {
		return errors.New("serve: the worker role needs Temporal (--temporal-address or BACKLOT_TEMPORAL_ADDRESS)")
	}
	if len(c.KafkaBrokers) == 0 {
		return errors.New("serve: no Kafka brokers (--kafka-brokers or BACKLOT_KAFKA_BROKERS)")
	}
	if c.PostgresURL == "" {
		return errors.New("serve: no PostgreSQL URL (--postgres-url or BACKLOT_POSTGRES_URL)")
	}
	if c.Addr == "" {
		c.Addr = ":7007"
	}
	if c.TopicPrefix == "" {
		c.TopicPrefix = "backlot."
	}
	if c.Group == "" {
		c.Group = "backlot-projector"
	}
	if c.RefreshInterval <= 0 {
		c.RefreshInterval = 30 * time.Second
	}
	if c.DataDir == "" {
		c.DataDir = filepath.Join(os.TempDir(), "backlot")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// Server is a running `backlot serve` process: its roles on the production
// adapters.
type Server struct {
	cfg       ServeConfig
	manifest  Manifest
	log       *kafkalog.Log
	store     *pgcatalog.Store
	hist      *pghist.Store
	badges    *pgbadges.Store
	projector *projectorRole
	ingester  *ingesterRole
	engine    *engine
	server    *http.Server
	listener  net.Listener
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closers   []func() error
	loaded    <-chan struct{}
	loadErr   func() error
}

func (s *Server) has(role string) bool { return slices.Contains(s.cfg.Roles, role) }

// StartServe connects to Kafka and PostgreSQL, builds the configured roles on
// them and serves. It fails when a store cannot be reached within ctx.
func StartServe(ctx context.Context, cfg ServeConfig) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	// The data folder (the git cache, the secrets key) is private: 0700,
	// its files 0600.
	if err := datadir.Secure(cfg.DataDir); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, loaded: closedChan(), loadErr: func() error { return nil }}
	ok := false
	defer func() {
		if !ok {
			if s.cancel != nil {
				s.cancel()
			}
			s.closeAll()
		}
	}()
	var err error
	s.log, err = kafkalog.Open(ctx, kafkalog.Options{
		Brokers: cfg.KafkaBrokers, TopicPrefix: cfg.TopicPrefix, Partitions: cfg.Partitions,
		ReplicationFactor: cfg.ReplicationFactor, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.log.Close)
	// The requests' pool (and the read models sharing it): no parallel
	// workers, no JIT (servePoolSettings).
	s.store, err = pgcatalog.Open(ctx, servePostgresURL(cfg.PostgresURL), pgcatalog.Options{})
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.store.Close)
	if s.hist, err = pghist.New(ctx, s.store.Pool(), pghist.Options{}); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.hist.Close)
	if s.badges, err = pgbadges.New(ctx, s.store.Pool()); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.badges.Close)
	pgHooks, err := pgsubs.New(ctx, s.store.Pool())
	if err != nil {
		return nil, err
	}
	// Webhook secrets are sealed at rest under the key every process of the
	// deployment shares (BACKLOT_SECRETS_KEY); without it they stay in clear,
	// since processes with keys of their own could not open each other's.
	var hookStore webhooks.Store = pgHooks
	if os.Getenv(scaffoldsvc.KeyEnv) != "" {
		key, err := scaffoldsvc.LoadKey("")
		if err != nil {
			return nil, err
		}
		sealer, err := webhooks.NewAESSealer(key)
		if err != nil {
			return nil, err
		}
		hookStore = webhooks.SealSecrets(pgHooks, sealer)
	} else {
		cfg.Logger.Warn("webhook subscription secrets are stored in clear: set " + scaffoldsvc.KeyEnv + " (base64 of 32 random bytes, the same in every process) to seal them")
	}

	repos, err := filepath.Abs(filepath.Join(cfg.DataDir, "repos"))
	if err != nil {
		return nil, err
	}
	local, err := githost.NewLocal(repos)
	if err != nil {
		return nil, err
	}
	// Every role reads locations: the ingester and the api register them, the
	// worker registers what it publishes, the projector's evaluator lists the
	// files of their repositories.
	guard, err := newGuard(cfg.AllowNetworks)
	if err != nil {
		return nil, err
	}
	reader, err := newIngestReader(filepath.Join(cfg.DataDir, "git"), append(slices.Clone(cfg.Roots), repos), cfg.Catalogs, cfg.AllowedHosts, cfg.Limits, cfg.ExtraKinds, guard)
	if err != nil {
		return nil, err
	}
	reg := newRegistry()
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	// Webhooks: every process manages subscriptions; the projector role delivers,
	// each subscription in a consumer group of its own that starts at the end.
	hooks, err := startWebhooks(runCtx, webhooks.Config{
		Store: hookStore, Deliver: s.has(RoleProjector), Topic: s.log.Topic(), Heads: s.log.Heads, Logger: cfg.Logger, Guard: guard,
		Subscriber: func(sub webhooks.Subscription) (message.Subscriber, error) {
			return messaging.NewKafkaSubscriber(messaging.KafkaSubscriberConfig{Brokers: cfg.KafkaBrokers,
				GroupID: cfg.Group + "-" + webhooks.ConsumerPrefix + sub.ID, Logger: cfg.Logger})
		},
	}, &s.manifest)
	if err != nil {
		return nil, err
	}

	var service *catalogsvc.Service
	// The write side's wait for the catalog: a poll of its positions, and,
	// with the projector role in this process, the catalog projector's folds.
	var near *nearWaiter
	if s.has(RoleAPI) || s.has(RoleIngester) || s.has(RoleWorker) {
		// The write side reads and waits through a small pool of its own, as
		// dev's does: a write holds the service's lock across its lease
		// claims, reads, append and wait, so queueing for a connection behind
		// the API's readers would queue every write behind them too.
		writes, err := pgcatalog.Open(ctx, servePostgresURL(cfg.PostgresURL), pgcatalog.Options{MaxConns: writePoolConns})
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, writes.Close)
		lock, err := pglease.New(ctx, writes.Pool(), cfg.Holder, pglease.Options{Logger: cfg.Logger, Linger: refreshLeaseLinger})
		if err != nil {
			return nil, err
		}
		// Before the pool closes (closers run last first).
		s.closers = append(s.closers, func() error { lock.Close(); return nil })
		near = &nearWaiter{poll: &projector.PollWaiter{Reader: writes}}
		service = catalogsvc.New(catalogsvc.Config{
			Log: s.log, Store: writes, Waiter: near,
			Lock: lock, Reader: reader, RefreshInterval: cfg.RefreshInterval, Logger: cfg.Logger,
			Repos: repocollect.NewWatcher(reader, s.store, s.badges, cfg.Logger),
		})
	}
	// Closed once the ingester, if any, loaded the configured catalogs: the
	// projector role folds them into the catalog first (catalogFirst).
	loading := make(chan struct{})
	// The catalog's writes in flight (the API's and the refreshes of watched
	// files), which the projector role's held-back readers yield to
	// (catalogFirst); nil, counting nothing, without that role.
	var work *foreground
	// The catalog's reads in flight (the API's, this process's and those
	// heard from other processes), which the projector role's catch-up
	// gives way to (catchUpTurns); nil without that role.
	var reads *readLoad
	if s.has(RoleProjector) {
		work, reads = newForeground(), newReadLoad()
		if s.projector, err = s.newProjector(ctx, reg, repocollect.New(reader), loading, work, reads); err != nil {
			return nil, err
		}
		if near != nil {
			near.local.Store(s.projector.catalog)
		}
	}
	// Workflows: the API role starts and reads them, the worker role runs them.
	if cfg.TemporalAddress != "" && (s.has(RoleAPI) || s.has(RoleWorker)) {
		key, err := scaffoldsvc.LoadKey(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		s.engine, err = newWorkflows(ctx, workflowsConfig{
			Addr: cfg.TemporalAddress, Namespace: "default", Key: key, WorkDir: filepath.Join(cfg.DataDir, "scaffolder"), Local: local,
			Service: service, Log: s.log, Reader: s.store, Logger: cfg.Logger, Guard: guard, Scripts: cfg.Scripts,
		})
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, s.engine.Close)
		if s.has(RoleWorker) {
			if err := newWorkerRole(s.engine, &s.manifest); err != nil {
				return nil, err
			}
		}
	}

	ready := func(ctx context.Context) error {
		if err := s.store.Ping(ctx); err != nil {
			return fmt.Errorf("postgresql: %w", err)
		}
		if _, err := s.log.Heads(ctx); err != nil {
			return fmt.Errorf("kafka: %w", err)
		}
		return nil
	}
	var handler http.Handler
	if s.has(RoleAPI) {
		deps := apiDeps{
			Log: s.log, Heads: s.log.Heads,
			Catalog: s.store, CatalogWaiter: &projector.PollWaiter{Reader: s.store}, Writer: service,
			History: s.hist, HistoryWaiter: &projector.PollWaiter{Reader: s.hist},
			Audit:  func(h history.Reader) httpapi.AuditLog { return audit.Kafka{Log: s.log, History: h} },
			Badges: s.badges, BadgeWaiter: &projector.PollWaiter{Reader: s.badges},
			Webhooks: hooks, Workflows: s.engine, Local: local, DataDir: cfg.DataDir, AuthTokens: cfg.AuthTokens,
			PublicBadges: cfg.PublicBadges, Permissions: cfg.Permissions, WarnGuest: true,
			OIDC: cfg.OIDC, Guard: guard,
			// Git webhooks wake migrations: serve refuses unsigned ones.
			RequireHookSecret: true,
			Ready:             ready, Registry: reg, Logger: cfg.Logger,
			MaxStreamsPerPrincipal: cfg.MaxStreamsPerPrincipal,
		}
		// A fact report is a write: it reads the catalog and the schemas,
		// then waits for its rating, through a small pool of its own, as
		// the catalog's writes do. On the readers' pool each of its reads
		// and polls queued behind their queries.
		facts, err := pgcatalog.Open(ctx, servePostgresURL(cfg.PostgresURL), pgcatalog.Options{MaxConns: factsPoolConns})
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, facts.Close)
		factBadges, err := pgbadges.New(ctx, facts.Pool())
		if err != nil {
			return nil, err
		}
		deps.FactsCatalog, deps.FactsBadges, deps.FactsBadgeWaiter = facts, factBadges, &projector.PollWaiter{Reader: factBadges}
		// The evaluator may run in another process: its progress is in
		// the badge read model, which one reader polls for every fact
		// report waiting in this process (sharedPoll).
		deps.Evaluated = newSharedPoll(factBadges.EvaluatorPositions, 0).WaitFor
		if cfg.OIDC.Enabled() {
			// Sessions are sealed with the deployment's secrets key, so
			// every api process opens the others'.
			if os.Getenv(scaffoldsvc.KeyEnv) == "" {
				cfg.Logger.Warn("browser sessions are sealed with this process's own key: set " + scaffoldsvc.KeyEnv + " (the same in every api process) so they share sessions")
			}
			if deps.SessionKey, err = scaffoldsvc.LoadKey(cfg.DataDir); err != nil {
				return nil, err
			}
		}
		if s.projector != nil {
			// This process's evaluator: its work when it holds the lease.
			deps.EvaluatorStats = s.projector.evaluator.Stats
		}
		api, err := newAPIRole(deps, &s.manifest)
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, api.Close)
		handler = api.handler
		if work != nil {
			handler = markCatalogWrites(work, handler)
		}
		if reads == nil {
			// No projector here: the projector processes hear of the
			// catalog's reads through PostgreSQL (readbeats.go).
			reads = newReadLoad()
			s.wg.Go(func() { tellReads(runCtx, s.store.Pool(), reads, cfg.Logger) })
		}
		handler = markCatalogReads(reads, handler)
	} else {
		handler = httpapi.HealthHandler(ready, reg)
		s.manifest.Routes = append(s.manifest.Routes, healthRoutes...)
	}
	if s.has(RoleIngester) {
		s.ingester = newIngesterRole(ingesterDeps{Service: service, Catalogs: cfg.Catalogs, Actor: ServeActor, RefreshInterval: cfg.RefreshInterval, Locations: s.store.Locations, Writes: work, Logger: cfg.Logger}, &s.manifest)
		s.loaded, s.loadErr = s.ingester.loaded, func() error { return s.ingester.loadErr }
	}

	go func() { <-s.loaded; close(loading) }()

	s.listener, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	s.server = httpapi.NewHTTPServer(handler, cfg.Timeouts)
	if s.projector != nil {
		s.projector.start(runCtx, &s.wg)
		// The catalog's reads of api processes elsewhere (readbeats.go).
		s.wg.Go(func() { hearReads(runCtx, cfg.PostgresURL, reads, cfg.Logger) })
	}
	s.wg.Go(func() {
		if err := s.server.Serve(s.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			cfg.Logger.Error("http server stopped", "err", err)
		}
	})
	if s.ingester != nil {
		s.ingester.start(runCtx, &s.wg)
	}
	ok = true
	cfg.Logger.Info("backlot serve running", "roles", strings.Join(cfg.Roles, ","), "addr", s.listener.Addr().String(),
		"topic", s.log.Topic())
	return s, nil
}

// healthRoutes are what a process without the api role serves.
var healthRoutes = []string{"GET /healthz", "GET /readyz", "GET /metrics"}

// newProjector builds the projector role on Kafka and PostgreSQL: the
// projectors fold the partitions the consumer group assigns, the evaluator
// runs in the process that holds its lease, and the state feed runs on the
// Watermill router in its own group.
func (s *Server) newProjector(ctx context.Context, reg *prometheus.Registry, repo badging.RepoCollector, loading <-chan struct{}, work *foreground, reads *readLoad) (*projectorRole, error) {
	cfg := s.cfg
	// The history's and the badges' projectors and the evaluator read and
	// write through a small pool of their own: after a large ingestion they
	// catch up, each batch's transaction open while it is decoded and
	// folded, and a first evaluation reads every page of the catalog; on the
	// catalog's pool they took the connections the API's requests and the
	// catalog's projector queued for.
	// Its statements take no parallel workers and no JIT (servePoolSettings).
	later, err := pgcatalog.Open(ctx, servePostgresURL(cfg.PostgresURL), pgcatalog.Options{MaxConns: serveCatchUpConns})
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, later.Close)
	pool := later.Pool()
	hist, err := pghist.New(ctx, pool, pghist.Options{})
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, hist.Close)
	badges, err := pgbadges.New(ctx, pool)
	if err != nil {
		return nil, err
	}
	lock, err := pglease.New(ctx, s.store.Pool(), cfg.Holder, pglease.Options{Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	stateTopic := cfg.TopicPrefix + statefeed.Topic
	if err := kafkalog.EnsureTopic(ctx, cfg.KafkaBrokers, stateTopic, max(cfg.Partitions, 1), cfg.ReplicationFactor,
		map[string]string{"cleanup.policy": "compact"}); err != nil {
		return nil, fmt.Errorf("state topic: %w", err)
	}
	poisonTopic := cfg.TopicPrefix + messaging.PoisonTopic
	if err := kafkalog.EnsureTopic(ctx, cfg.KafkaBrokers, poisonTopic, 1, cfg.ReplicationFactor, nil); err != nil {
		return nil, fmt.Errorf("poison topic: %w", err)
	}
	pub, err := messaging.NewKafkaPublisher(messaging.KafkaPublisherConfig{Brokers: cfg.KafkaBrokers})
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, pub.Close)
	sub, err := messaging.NewKafkaSubscriber(messaging.KafkaSubscriberConfig{Brokers: cfg.KafkaBrokers, GroupID: cfg.Group + "-state", Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, sub.Close)
	r, err := newProjectorRole(projectorDeps{
		Log: s.log, Catalog: s.store, History: hist, Badges: badges, Run: s.runInGroup, EvaluatorCatalog: later, CatchUpBatches: serveCatchUpBatches, Writes: work, Reads: reads,
		// One evaluator rates badges for the whole log: the projector process
		// that holds the lease; another takes over when it dies.
		EvaluatorLease: func(ctx context.Context) (func(), error) {
			lease, err := lock.Acquire(ctx, evaluatorLease)
			if err != nil {
				return nil, err
			}
			cfg.Logger.Info("this process rates badges", "holder", lock.Holder())
			return lease.Release, nil
		},
		Repo: repo,
		// The catalog is what writes wait for: it folds a large ingestion
		// first, the history and the badges once it is readable.
		CatalogFirst: true, CatalogFirstBehind: serveCatalogFirstBehind, CatalogFirstMaxWait: serveCatalogFirstMaxWait, CatalogFirstStalled: true,
		CatalogFirstLoading: loading, HeldBackBatchSize: serveHeldBackBatch, EvaluatorBatchSize: serveEvaluatorBatch,
		// A fact report waits for the badges' fold of its facts and the
		// evaluator's rating: a few events, which need not yield.
		ShortBacklog: serveShortBacklog,
		StateFeed:    &stateFeedDeps{Publisher: pub, Subscriber: sub, EventTopic: s.log.Topic(), StateTopic: stateTopic, PoisonTopic: poisonTopic},
		Registry:     reg, Logger: cfg.Logger,
	}, &s.manifest)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, r.Close)
	return r, nil
}

// runInGroup runs the projectors over the partitions the consumer group
// assigns this process, side by side, and rejoins the group when it fails.
func (s *Server) runInGroup(ctx context.Context, projs ...*projector.Projector) {
	cfg := s.cfg
	for ctx.Err() == nil {
		err := s.log.RunGroup(ctx, cfg.Group, func(ctx context.Context, parts []int32) {
			cfg.Logger.Info("projector assigned partitions", "group", cfg.Group, "partitions", parts)
			var wg sync.WaitGroup
			for _, p := range projs {
				wg.Go(func() { _ = p.RunPartitions(ctx, parts) })
			}
			wg.Wait()
		})
		if err != nil && ctx.Err() == nil {
			cfg.Logger.Error("projector group failed; rejoining", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// Manifest describes what this process serves: its roles on the production
// adapters.
func (s *Server) Manifest() Manifest { return s.manifest.sorted() }

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Loaded returns a channel closed once the ingester has loaded its catalogs
// (at once for processes without the ingester role).
func (s *Server) Loaded() <-chan struct{} { return s.loaded }

// LoadErr returns the errors of loading the catalogs, after Loaded.
func (s *Server) LoadErr() error { return s.loadErr() }

// Close stops serving, waits for the roles and closes the stores.
func (s *Server) Close() error {
	var err error
	if s.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = s.server.Shutdown(ctx)
		cancel()
	}
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	return errors.Join(err, s.closeAll())
}

func (s *Server) closeAll() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}

// refreshLeaseLinger is how long the write side keeps a location's lease
// after a refresh (pglease.Options.Linger): the refreshes of a file edited
// again and again, or of several files saved one after another, take the
// lease back without a statement instead of waiting for the last one's
// release and claiming it anew (at load 16, 0.4-394 ms of an edit's 34-468).
// Another process's refresh of the location waits up to this much longer.
const refreshLeaseLinger = time.Second

// evaluatorLease is the lease the badge evaluator of backlot serve holds.
const evaluatorLease = "backlot:badge-evaluator"

// DefaultMaxStreamsPerPrincipal is the default cap of each principal's open
// event streams and long polls (httpapi.DefaultMaxStreamsPerPrincipal), for
// the commands' flags.
const DefaultMaxStreamsPerPrincipal = httpapi.DefaultMaxStreamsPerPrincipal
