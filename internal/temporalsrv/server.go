package temporalsrv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	tlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
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
}

// Server is a running in-process Temporal server.
type Server struct {
	srv  temporal.Server
	addr string
	ns   string
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
	if err := sqlite.CreateNamespaces(&sqlCfg, ns); err != nil {
		return nil, fmt.Errorf("temporal: create namespace %s: %w", cfg.Namespace, err)
	}
	sc, err := serverConfig(host, port, sqlCfg)
	if err != nil {
		return nil, err
	}
	logger := tlog.NewZapLogger(tlog.BuildZapLogger(tlog.Config{Level: cfg.LogLevel, OutputFile: ""}))
	srv, err := temporal.NewServer(
		temporal.WithConfig(sc),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithLogger(logger),
		temporal.WithDynamicConfigClient(dynamicconfig.StaticClient{
			// Visibility on SQLite is read right after a write by the API's list.
			dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): []dynamicconfig.ConstrainedValue{{Value: true}},
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("temporal: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("temporal: start: %w", err)
	}
	s := &Server{srv: srv, addr: net.JoinHostPort(host, strconv.Itoa(port)), ns: cfg.Namespace}
	if err := s.waitReady(ctx); err != nil {
		_ = srv.Stop()
		return nil, err
	}
	return s, nil
}

// Addr is the frontend's host:port.
func (s *Server) Addr() string { return s.addr }

// Namespace is the namespace created at start.
func (s *Server) Namespace() string { return s.ns }

// Stop stops the server.
func (s *Server) Stop() error { return s.srv.Stop() }

// waitReady dials the frontend until it answers a health check.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		c, err := client.DialContext(ctx, client.Options{HostPort: s.addr, Namespace: s.ns, Logger: quiet{}})
		if err == nil {
			_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
			c.Close()
			if err == nil {
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

// frontendAddr splits addr and picks a free port for port 0.
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
	if port == 0 {
		if port, err = freePort(host); err != nil {
			return "", 0, err
		}
	}
	return host, port, nil
}

// freePort asks the kernel for a free port on host.
func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("temporal: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// serverConfig is a one-shard, one-cluster configuration on SQLite with the
// frontend at host:port and the other services on free ports of host.
func serverConfig(host string, port int, sqlCfg config.SQL) (*config.Config, error) {
	service := func(grpc int) (config.Service, error) {
		var err error
		if grpc == 0 {
			if grpc, err = freePort(host); err != nil {
				return config.Service{}, err
			}
		}
		member, err := freePort(host)
		if err != nil {
			return config.Service{}, err
		}
		return config.Service{RPC: config.RPC{GRPCPort: grpc, MembershipPort: member, BindOnIP: host}}, nil
	}
	services := map[string]config.Service{}
	for i, name := range []string{"frontend", "history", "matching", "worker"} {
		grpc := 0
		if i == 0 {
			grpc = port
		}
		s, err := service(grpc)
		if err != nil {
			return nil, err
		}
		services[name] = s
	}
	metricsPort, err := freePort(host)
	if err != nil {
		return nil, err
	}
	front := net.JoinHostPort(host, strconv.Itoa(port))
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
	}, nil
}

// quiet drops the SDK client's log while waiting for the frontend.
type quiet struct{}

func (quiet) Debug(string, ...any) {}
func (quiet) Info(string, ...any)  {}
func (quiet) Warn(string, ...any)  {}
func (quiet) Error(string, ...any) {}
