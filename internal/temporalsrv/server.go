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
	"strconv"
	"time"

	"backlot.dev/backlot/internal/ports"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	tlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
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
}

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
	ports, err := loadPorts(cfg.DBPath+".ports", host, port)
	if err != nil {
		return nil, err
	}
	sc := serverConfig(host, ports, sqlCfg)
	logger, level, err := newLogger(cfg.LogLevel)
	if err != nil {
		return nil, err
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(sc),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithLogger(logger),
		temporal.WithDynamicConfigClient(dynamicConfig()),
	)
	if err != nil {
		return nil, fmt.Errorf("temporal: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("temporal: start: %w", err)
	}
	s := &Server{srv: srv, addr: net.JoinHostPort(host, strconv.Itoa(ports.GRPC["frontend"])), ns: cfg.Namespace, level: level}
	if err := s.waitReady(ctx); err != nil {
		_ = srv.Stop()
		return nil, err
	}
	return s, nil
}

// dynamicConfig is the server's dynamic configuration: a one-shard server on
// one SQLite file, in one process beside others.
func dynamicConfig() dynamicconfig.StaticClient {
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
	return c
}

// schedulerWorkers is the worker count of each of the history service's
// task schedulers (timers, transfers, visibility): enough for the
// scaffolder's and a migration's bursts (50 repositories at once) on one
// shard.
const schedulerWorkers = 32

// newLogger is the server's log on standard error: one line per entry, at
// level and above, without the stack traces Temporal's default attaches.
func newLogger(level string) (tlog.Logger, zap.AtomicLevel, error) {
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
	zl, err := zc.Build(zap.Fields(zap.String("component", "temporal-server")))
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

// servicePorts are the gRPC and membership ports of each service and the
// metrics port. They are kept beside the database and used again on the
// next start: the cluster's membership, persisted in the database, then
// finds the same hosts and is ready at once instead of waiting for the old
// ones to time out.
type servicePorts struct {
	GRPC       map[string]int `json:"grpc"`
	Membership map[string]int `json:"membership"`
	Metrics    int            `json:"metrics"`
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
	p = servicePorts{GRPC: map[string]int{}, Membership: map[string]int{}}
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
		if p.Membership[name], err = freePort(host); err != nil {
			return p, err
		}
	}
	if p.Metrics, err = freePort(host); err != nil {
		return p, err
	}
	raw, _ := json.Marshal(p)
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		return p, fmt.Errorf("temporal: %w", err)
	}
	return p, nil
}

// usable reports whether every saved port is there and free.
func (p servicePorts) usable(host string, frontend int) bool {
	if p.GRPC == nil || p.Membership == nil || p.Metrics == 0 {
		return false
	}
	ports := []int{p.Metrics}
	for _, name := range serviceNames {
		if p.Membership[name] == 0 || (name != "frontend" && p.GRPC[name] == 0) {
			return false
		}
		ports = append(ports, p.Membership[name])
		if name != "frontend" {
			ports = append(ports, p.GRPC[name])
		}
	}
	for _, port := range ports {
		if port == frontend || !free(host, port) {
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
		services[name] = config.Service{RPC: config.RPC{GRPCPort: ports.GRPC[name], MembershipPort: ports.Membership[name], BindOnIP: host}}
	}
	metricsPort := ports.Metrics
	front := net.JoinHostPort(host, strconv.Itoa(ports.GRPC["frontend"]))
	return &config.Config{
		Global: config.Global{
			Membership: config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: host},
			Metrics: &metrics.Config{Prometheus: &metrics.PrometheusConfig{
				ListenAddress: net.JoinHostPort(host, strconv.Itoa(metricsPort)), HandlerPath: "/metrics"}},
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
