package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/internal/auth"
	"backlot.dev/backlot/internal/temporalsrv"
)

// startTemporal is the app.TemporalStarter of the in-process server.
func startTemporal(ctx context.Context, db, addr string) (string, func() error, error) {
	s, err := temporalsrv.Start(ctx, temporalsrv.Config{DBPath: db, Addr: addr})
	if err != nil {
		return "", nil, err
	}
	return s.Addr(), s.Stop, nil
}

func newDevCmd() *cobra.Command {
	var cfg app.DevConfig
	var quiet, noWorkflows, insecureNoAuth bool
	var permissions func() error
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run every role in one process on embedded stores",
		Long: `Run Backlot in one process: the SQLite event log, the SQLite read model and its
projector, the ingester with its refresh loop, and the HTTP API with the Backstage
catalog API under /api/catalog. Catalog files given with --catalog are registered at
start (or refreshed, when the data folder already has them).

The scaffolder and fleet migrations run on an in-process Temporal server on
DATA/temporal.db, with its frontend at --temporal-address (the stock temporal CLI's
default, so "temporal workflow list" works as it is), and a worker in the same
process. Repositories they publish live in DATA/repos, Backlot's local git host.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags()); err != nil {
				return err
			}
			if err := permissions(); err != nil {
				return err
			}
			if err := auth.CheckStart(auth.Start{Command: "dev", Addr: cfg.Addr, Authenticator: cfg.AuthTokens != "" || cfg.OIDC.Enabled(), InsecureNoAuth: insecureNoAuth}); err != nil {
				return err
			}
			level := slog.LevelInfo
			if quiet {
				level = slog.LevelWarn
			}
			cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if !noWorkflows {
				cfg.Temporal = startTemporal
			}
			// Scripts and git run in folders under the data folder, each
			// from a different working directory: the folder is made
			// absolute once, here.
			abs, err := filepath.Abs(cfg.DataDir)
			if err != nil {
				return err
			}
			cfg.DataDir = abs
			d, err := app.StartDev(ctx, cfg)
			if err != nil {
				return err
			}
			<-ctx.Done()
			cfg.Logger.Info("shutting down")
			return d.Close()
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data", ".data", "folder for the event log, read model and git cache")
	f.StringVar(&cfg.Addr, "addr", "127.0.0.1:7007", "listen address")
	f.StringArrayVar(&cfg.Catalogs, "catalog", nil, "catalog file or URL to register at start (repeatable)")
	f.StringArrayVar(&cfg.Roots, "root", nil, "extra folder file locations may read (repeatable)")
	f.StringArrayVar(&cfg.AllowedHosts, "allow-host", []string{"github.com", "gitlab.com"}, "host url locations may read (repeatable)")
	f.StringArrayVar(&cfg.AllowNetworks, "allow-network", nil, "network (CIDR), address or host name that webhook deliveries, git host APIs and url locations may reach although loopback, private, link-local or metadata, e.g. 127.0.0.0/8,10.0.0.0/8 (repeatable, comma-separated; default: public addresses only)")
	bindEnv(f, "allow-network", envNames["allow-network"])
	f.DurationVar(&cfg.RefreshInterval, "refresh-interval", 30*time.Second, "how often every location is re-read")
	f.StringArrayVar(&cfg.HostNames, "host-name", nil, "a name the server answers to besides localhost, 127.0.0.1, ::1 and the --addr host; requests with another Host header, and writes from another Origin, answer 403 (repeatable)")
	f.IntVar(&cfg.MaxStreamsPerPrincipal, "max-streams", app.DefaultMaxStreamsPerPrincipal, "open event streams and long polls one principal may hold; more answer 429")
	f.BoolVar(&cfg.Pprof, "pprof", false, "serve Go's profiler under /debug/pprof/")
	f.StringVar(&cfg.AuthTokens, "auth-tokens", "", "token file (sha256:HEX PRINCIPAL [GROUP,GROUP] per line, see backlot auth hash-token): reads and writes then need a bearer token; required on an address other than loopback")
	f.BoolVar(&insecureNoAuth, "insecure-no-auth", false, "start on an address other than loopback without --auth-tokens: anyone who reaches the port may read and write")
	f.BoolVar(&cfg.PrivateBadges, "private-badges", false, "with --auth-tokens, the badge SVGs need a token too (by default dev serves them to anyone)")
	f.BoolVarP(&quiet, "quiet", "q", false, "log only warnings and errors")
	f.StringVar(&cfg.TemporalAddr, "temporal-address", temporalsrv.DefaultAddr, "the in-process Temporal frontend's address (port 0 picks a free one)")
	f.StringVar(&cfg.TemporalAddr, "temporal-addr", temporalsrv.DefaultAddr, "")
	f.MarkDeprecated("temporal-addr", "use --temporal-address, as backlot serve names it")
	f.BoolVar(&noWorkflows, "no-workflows", false, "run no Temporal server: the scaffolder and migrations answer 503")
	scriptFlags(f, &cfg.Scripts)
	permissions = permissionFlags(f, &cfg.Permissions)

	catalogLimitFlags(f, &cfg.Limits)
	oidcFlags(f, &cfg.OIDC, " (default http:// and --addr)")

	catalogKindFlags(f, &cfg.ExtraKinds)
	return cmd
}
