package temporalsrv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"backlot.dev/backlot/internal/ports"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	tlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/protobuf/types/known/durationpb"
)

// DefaultAddr is the frontend's default address: the stock temporal CLI's
// default, so `temporal workflow list` works with no flags.
const DefaultAddr = "127.0.0.1:7233"

// DefaultNamespace is the namespace Backlot's workflows run in.
const DefaultNamespace = "default"

// Config configures Start.
type Config struct {
	// DBPath is the SQLite file; created with its schema when missing.
	DBPath string
	// Addr is the frontend's host:port; port 0 picks a free one. Default DefaultAddr.
	Addr string
	// Namespace is created on start when missing; default DefaultNamespace.
	Namespace string
	// LogLevel is the server log's level (debug, info, warn, error); default error.
	LogLevel string
	// Retention is how long closed workflows (finished tasks and migrations)
	// stay readable, set when the namespace is created; default
	// DefaultRetention.
	Retention time.Duration

	// chosen, when set (by tests), is called with the ports of each attempt
	// to start, after they are chosen and before the server binds them.
	chosen func(attempt int, p servicePorts)
}

// startAttempts is how many times Start picks new ports when a port it chose
// free was taken by another process before the server bound it.
const startAttempts = 5

// DefaultRetention keeps finished tasks and migrations for 30 days; their
// start and end stay in the catalog's event log for good.
const DefaultRetention = 30 * 24 * time.Hour

// Server is a running in-process Temporal server.
type Server struct {
	srv   temporal.Server
	addr  string
	ns    string
	level zap.AtomicLevel
}

// Start creates the database when missing and starts the server. It returns
// once the frontend answers.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.DBPath == "" {
		return nil, errors.New("temporal: a database path is required")
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.Namespace == "" {
		cfg.Namespace = DefaultNamespace
	}
	if cfg.LogLevel == "" {
		cfg.LogLevel = "error"
	}
	host, port, err := frontendAddr(cfg.Addr)
	if err != nil {
		return nil, err
	}
	sqlCfg := config.SQL{
		PluginName:        sqliteplugin.PluginName,
		DatabaseName:      cfg.DBPath,
		ConnectAttributes: map[string]string{"mode": "rwc", "_journal_mode": "wal", "_synchronous": "2"},
	}
	if _, err := os.Stat(cfg.DBPath); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(cfg.DBPath), 0o755); err != nil {
			return nil, fmt.Errorf("temporal: %w", err)
		}
		if err := sqlite.SetupSchema(&sqlCfg); err != nil {
			return nil, fmt.Errorf("temporal: set up schema in %s: %w", cfg.DBPath, err)
		}
		if err := os.WriteFile(cfg.DBPath+partitionsSuffix, []byte("1\n"), 0o644); err != nil {
			return nil, fmt.Errorf("temporal: %w", err)
		}
	}
	readPartitions, err := readPartitionsOf(cfg.DBPath)
	if err != nil {
		return nil, err
	}
	ns, err := sqlite.NewNamespaceConfig("active", cfg.Namespace, false, nil)
	if err != nil {
		return nil, fmt.Errorf("temporal: namespace %s: %w", cfg.Namespace, err)
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	ns.Detail.Config.Retention = durationpb.New(cfg.Retention)
	if err := sqlite.CreateNamespaces(&sqlCfg, ns); err != nil {
		return nil, fmt.Errorf("temporal: create namespace %s: %w", cfg.Namespace, err)
	}
	hook := &fatalHook{}
	logger, level, err := newLogger(cfg.LogLevel, hook)
	if err != nil {
		return nil, err
	}
	portsFile := cfg.DBPath + ".ports"
	var srv temporal.Server
	var ports servicePorts
	for attempt := 1; ; attempt++ {
		if ports, err = loadPorts(portsFile, host, port); err != nil {
			return nil, err
		}
		if cfg.chosen != nil {
			cfg.chosen(attempt, ports)
		}
		srv, err = startOnce(host, ports, sqlCfg, logger, hook, readPartitions)
		var taken *portTakenError
		if err == nil || !errors.As(err, &taken) || attempt == startAttempts {
			break
		}
		if port != 0 && strings.Contains(taken.detail, net.JoinHostPort(host, strconv.Itoa(port))) {
			break // the configured frontend address: not a port to pick again
		}
		// A port chosen free was taken before the server bound it: forget
		// the saved ports and pick others. What the failed attempt had
		// built is garbage; collecting it closes the listeners it had
		// bound (a net.Listener is closed by its finalizer).
		slog.Warn("temporal: a port chosen free was taken before the server bound it; picking others", "attempt", attempt, "error", err)
		_ = os.Remove(portsFile)
		runtime.GC()
		runtime.GC()
	}
	if err != nil {
		return nil, err
	}
	s := &Server{srv: srv, addr: net.JoinHostPort(host, strconv.Itoa(ports.GRPC["frontend"])), ns: cfg.Namespace, level: level}
	if err := s.waitReady(ctx); err != nil {
		_ = srv.Stop()
		return nil, err
	}
	return s, nil
}

// startOnce builds and starts the server on ports. Temporal ends the process
// (a fatal log entry) when it cannot bind a port; while startOnce runs, hook
// turns that entry into a panic, which startOnce returns as a portTakenError
// (or, for any other fatal entry, an error saying it).
func startOnce(host string, ports servicePorts, sqlCfg config.SQL, logger tlog.Logger, hook *fatalHook, readPartitions int) (srv temporal.Server, err error) {
	hook.starting.Store(true)
	defer hook.starting.Store(false)
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		f, ok := r.(fatalEntry)
		if !ok {
			panic(r)
		}
		srv = nil
		if strings.Contains(f.text, "address already in use") {
			err = &portTakenError{detail: f.text}
			return
		}
		err = fmt.Errorf("temporal: start: %s", f.text)
	}()
	srv, err = temporal.NewServer(
		temporal.WithConfig(serverConfig(host, ports, sqlCfg)),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(staticHosts(host, ports)),
		temporal.WithLogger(logger),
		temporal.WithDynamicConfigClient(dynamicConfig(readPartitions)),
	)
	if err != nil {
		return nil, fmt.Errorf("temporal: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("temporal: start: %w", err)
	}
	return srv, nil
}

// portTakenError is a start that failed because a port was taken.
type portTakenError struct{ detail string }

func (e *portTakenError) Error() string { return "temporal: start: a port is taken: " + e.detail }

// fatalEntry is the panic value fatalHook raises for a fatal log entry while
// the server starts: the entry's message and fields.
type fatalEntry struct{ text string }

// fatalHook is the zap hook of a fatal entry of the server's log. While the
// server starts (starting), it panics with a fatalEntry, so that Start can
// pick other ports when a bind fails rather than see the process end; after,
// it ends the process as Temporal expects.
type fatalHook struct{ starting atomic.Bool }

// OnWrite implements zapcore.CheckWriteHook.
func (h *fatalHook) OnWrite(ce *zapcore.CheckedEntry, fields []zapcore.Field) {
	if !h.starting.Load() {
		os.Exit(1)
	}
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range fields {
		f.AddTo(enc)
	}
	text := ce.Message
	for _, k := range []string{"error", "address", "service"} {
		if v, ok := enc.Fields[k]; ok {
			text += fmt.Sprintf(" %s=%v", k, v)
		}
	}
	panic(fatalEntry{text: text})
}

// staticHosts names each service's one host, its gRPC address: the services
// of one process find one another without a membership protocol, so no
// membership port is needed.
func staticHosts(host string, ports servicePorts) map[primitives.ServiceName]static.Hosts {
	hosts := map[primitives.ServiceName]static.Hosts{}
	for _, name := range serviceNames {
		hosts[primitives.ServiceName(name)] = static.SingleLocalHost(net.JoinHostPort(host, strconv.Itoa(ports.GRPC[name])))
	}
	return hosts
}

// partitionsSuffix names the file beside the database that says its task
// queues have one partition: written when Start creates the database.
const partitionsSuffix = ".partitions"

// legacyReadPartitions is how many partitions of each task queue the server
// reads in a database an earlier Backlot created, whose queues had
// Temporal's default four.
const legacyReadPartitions = 4

// readPartitionsOf returns how many partitions of each task queue the server
// of the database at dbPath reads: one for a database Start created with one
// (partitionsSuffix), four for one an earlier Backlot created. Every task is
// written to one partition either way; an earlier database's other three
// are still read, so a task queued in them when it stopped (while every
// worker was busy, as in a migration of many repositories) is still handed
// out and no task or migration is stranded by the upgrade.
func readPartitionsOf(dbPath string) (int, error) {
	b, err := os.ReadFile(dbPath + partitionsSuffix)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return legacyReadPartitions, nil
	case err != nil:
		return 0, fmt.Errorf("temporal: %w", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("temporal: %s%s: %q is not a partition count", dbPath, partitionsSuffix, b)
	}
	return n, nil
}

// dynamicConfig is the server's dynamic configuration: a one-shard server on
// one SQLite file, in one process beside others, whose task queues are read
// from readPartitions partitions and written to one.
func dynamicConfig(readPartitions int) dynamicconfig.StaticClient {
	c := dynamicconfig.StaticClient{
		// Visibility on SQLite is read right after a write by the API's list.
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): []dynamicconfig.ConstrainedValue{{Value: true}},
	}
	// The history service's task schedulers start their workers at once,
	// sized for a cluster: 512 goroutines each for timers, transfers,
	// visibility and replication, 2,200 in all, whose stacks alone held
	// about 18 MB of a backlot dev at rest, and which every garbage
	// collection scans. One shard writing to one SQLite file (one writer at a
	// time) is served by a few; replication never runs here.
	for key, workers := range map[dynamicconfig.Key]int{
		dynamicconfig.TimerProcessorSchedulerWorkerCount.Key():                  schedulerWorkers,
		dynamicconfig.TransferProcessorSchedulerWorkerCount.Key():               schedulerWorkers,
		dynamicconfig.VisibilityProcessorSchedulerWorkerCount.Key():             schedulerWorkers,
		dynamicconfig.ArchivalProcessorSchedulerWorkerCount.Key():               4,
		dynamicconfig.MemoryTimerProcessorSchedulerWorkerCount.Key():            8,
		dynamicconfig.ReplicationProcessorSchedulerWorkerCount.Key():            2,
		dynamicconfig.ReplicationLowPriorityProcessorSchedulerWorkerCount.Key(): 1,
	} {
		c[key] = []dynamicconfig.ConstrainedValue{{Value: workers}}
	}
	for key, value := range leanSettings {
		c[key] = []dynamicconfig.ConstrainedValue{{Value: value}}
	}
	c[dynamicconfig.MatchingNumTaskqueueReadPartitions.Key()] = []dynamicconfig.ConstrainedValue{{Value: readPartitions}}
	return c
}

// leanSettings size the server for one process on one SQLite file rather
// than for a cluster: what a cluster's defaults keep in memory and in
// goroutines for the whole life of backlot dev, and that nothing here uses.
// Measured on an idle backlot dev, two back-to-back pairs, defaults ->
// these: the memory Go holds 74.5-74.8 -> 57.6-61.8 MB, the live heap after
// a collection 35.7-39.0 -> 28.4-29.2 MB, goroutine stacks 9.8-10.2 -> 5.1
// MB, goroutines 1,108 -> 623.
var leanSettings = map[dynamicconfig.Key]any{
	// One partition per task queue: a cluster spreads a queue over four
	// partitions on several matching hosts, and every loaded partition
	// keeps its task writer, reader and dispatcher goroutines and buffers
	// (72 partitions of 18 queues at rest). One matching service in one
	// process gains nothing from them. The read partitions are set by
	// dynamicConfig: one, except in a database an earlier Backlot created
	// (readPartitionsOf), whose other three may hold queued tasks.
	dynamicconfig.MatchingNumTaskqueueWritePartitions.Key(): 1,
	// The health signals feed metrics and deep health checks this server
	// does not export or run; each aggregator keeps two rings of 5,000
	// samples (1.75 MB in all).
	dynamicconfig.PersistenceHealthSignalMetricsEnabled.Key(): false,
	dynamicconfig.HistoryHealthSignalMetricsEnabled.Key():     false,
	dynamicconfig.PersistenceHealthSignalBufferSize.Key():     healthSignalSamples,
	// The scanner's two daily clean-ups, each an SDK worker of its own for
	// the life of the process (pollers, goroutines, and a local-activity
	// queue that alone is an 800 KB buffer): the history scanner deletes
	// history branches whose workflow is gone, once they are 60 days old
	// (HistoryScannerDataMinAge), and the task queue scanner deletes
	// expired tasks and task queues idle for 48 hours. Closed workflows are
	// deleted with their history when their retention ends, tasks are
	// deleted once they are matched, and what stays are a few rows per
	// start of backlot dev (its workers' sticky queues), a few hundred
	// bytes each.
	dynamicconfig.HistoryScannerEnabled.Key():   false,
	dynamicconfig.TaskQueueScannerEnabled.Key(): false,
}

// healthSignalSamples is the ring of the health aggregators that are built
// whether or not they are enabled.
const healthSignalSamples = 16

// schedulerWorkers is the worker count of each of the history service's
// task schedulers (timers, transfers, visibility): enough for the
// scaffolder's and a migration's bursts (50 repositories at once) on one
// shard.
const schedulerWorkers = 32

// newLogger is the server's log on standard error: one line per entry, at
// level and above, without the stack traces Temporal's default attaches; a
// fatal entry calls hook.
func newLogger(level string, hook zapcore.CheckWriteHook) (tlog.Logger, zap.AtomicLevel, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, zap.AtomicLevel{}, fmt.Errorf("temporal: log level %q: %w", level, err)
	}
	zc := zap.NewProductionConfig()
	zc.Level = zap.NewAtomicLevelAt(lvl)
	zc.Encoding = "console"
	zc.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	zc.DisableStacktrace = true
	zc.DisableCaller = true
	zc.Sampling = nil
	zc.OutputPaths, zc.ErrorOutputPaths = []string{"stderr"}, []string{"stderr"}
	zl, err := zc.Build(zap.Fields(zap.String("component", "temporal-server")), zap.WithFatalHook(hook))
	if err != nil {
		return nil, zap.AtomicLevel{}, fmt.Errorf("temporal: log: %w", err)
	}
	return tlog.NewZapLogger(zl), zc.Level, nil
}

// Addr is the frontend's host:port.
func (s *Server) Addr() string { return s.addr }

// Namespace is the namespace created at start.
func (s *Server) Namespace() string { return s.ns }

// Stop stops the server. The services' complaints about one another going
// away while it stops are not logged.
func (s *Server) Stop() error {
	s.level.SetLevel(zapcore.FatalLevel)
	return s.srv.Stop()
}

// waitReady dials the frontend until the history service behind it answers:
// a workflow that does not exist is not found, rather than unavailable.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var c client.Client
	var err error
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for {
		if c == nil {
			c, err = client.DialContext(ctx, client.Options{HostPort: s.addr, Namespace: s.ns, Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
		}
		if c != nil {
			_, err = c.DescribeWorkflowExecution(ctx, "backlot-readiness-probe", "")
			var nf *serviceerror.NotFound
			if errors.As(err, &nf) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("temporal: frontend %s not ready: %w", s.addr, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// frontendAddr splits addr; port 0 is left for loadPorts to pick.
func frontendAddr(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("temporal address %q: %w", addr, err)
	}
	if host == "" || host == "localhost" {
		host = "127.0.0.1"
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("temporal address %q: port: %w", addr, err)
	}
	return host, port, nil
}

// freePort asks the kernel for a free port on host.
func freePort(host string) (int, error) { return FreePort(host) }

// FreePort returns a free port of host below the kernel's ephemeral range
// (ports.Free).
func FreePort(host string) (int, error) { return ports.Free(host) }

// servicePorts are the gRPC ports of each service. They are kept beside the
// database and used again on the next start when still free, so that a
// restarted server is found where it was. The services find one another by
// static hosts (staticHosts), so there is no membership port, and the server
// exports no metrics, so no metrics port: every port is one a service binds
// as it is built, which Start retries on other ports if it was taken.
type servicePorts struct {
	GRPC map[string]int `json:"grpc"`
}

var serviceNames = []string{"frontend", "history", "matching", "worker"}

// loadPorts reads the ports of the last start from path when they are still
// free (the frontend's is always the configured one), or picks free ones,
// and saves them.
func loadPorts(path, host string, frontend int) (servicePorts, error) {
	var p servicePorts
	if raw, err := os.ReadFile(path); err == nil && json.Unmarshal(raw, &p) == nil {
		if frontend == 0 && p.GRPC != nil && free(host, p.GRPC["frontend"]) {
			frontend = p.GRPC["frontend"]
		}
		if frontend != 0 && p.usable(host, frontend) {
			p.GRPC["frontend"] = frontend
			return p, nil
		}
	}
	p = servicePorts{GRPC: map[string]int{}}
	var err error
	if frontend == 0 {
		if frontend, err = freePort(host); err != nil {
			return p, err
		}
	}
	for _, name := range serviceNames {
		if name == "frontend" {
			p.GRPC[name] = frontend
		} else if p.GRPC[name], err = freePort(host); err != nil {
			return p, err
		}
	}
	raw, _ := json.Marshal(p)
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		return p, fmt.Errorf("temporal: %w", err)
	}
	return p, nil
}

// usable reports whether every saved port is there and free.
func (p servicePorts) usable(host string, frontend int) bool {
	if p.GRPC == nil {
		return false
	}
	for _, name := range serviceNames {
		if name == "frontend" {
			continue
		}
		if port := p.GRPC[name]; port == 0 || port == frontend || !free(host, port) {
			return false
		}
	}
	return true
}

// free reports whether port can be listened on.
func free(host string, port int) bool { return ports.Available(host, port) }

// serverConfig is a one-shard, one-cluster configuration on SQLite with the
// services on host at ports.
func serverConfig(host string, ports servicePorts, sqlCfg config.SQL) *config.Config {
	services := map[string]config.Service{}
	for _, name := range serviceNames {
		services[name] = config.Service{RPC: config.RPC{GRPCPort: ports.GRPC[name], BindOnIP: host}}
	}
	front := net.JoinHostPort(host, strconv.Itoa(ports.GRPC["frontend"]))
	return &config.Config{
		Global: config.Global{
			Membership: config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: host},
		},
		Persistence: config.Persistence{
			DefaultStore:     sqliteplugin.PluginName,
			VisibilityStore:  sqliteplugin.PluginName,
			NumHistoryShards: 1,
			DataStores:       map[string]config.DataStore{sqliteplugin.PluginName: {SQL: &sqlCfg}},
		},
		ClusterMetadata: &cluster.Config{
			EnableGlobalNamespace:    false,
			FailoverVersionIncrement: 10,
			MasterClusterName:        "active",
			CurrentClusterName:       "active",
			ClusterInformation: map[string]cluster.ClusterInformation{
				"active": {Enabled: true, InitialFailoverVersion: 1, RPCAddress: front},
			},
		},
		DCRedirectionPolicy: config.DCRedirectionPolicy{Policy: "noop"},
		Services:            services,
		Archival: config.Archival{
			History:    config.HistoryArchival{State: "disabled"},
			Visibility: config.VisibilityArchival{State: "disabled"},
		},
		PublicClient: config.PublicClient{HostPort: front},
		NamespaceDefaults: config.NamespaceDefaults{Archival: config.ArchivalNamespaceDefaults{
			History:    config.HistoryArchivalNamespaceDefaults{State: "disabled"},
			Visibility: config.VisibilityArchivalNamespaceDefaults{State: "disabled"},
		}},
	}
}
