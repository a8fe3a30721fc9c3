package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/internal/auth"
)

func newServeCmd() *cobra.Command {
	var cfg app.ServeConfig
	var logFormat string
	var insecureNoAuth bool
	var permissions func() error
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run production roles on Kafka and PostgreSQL",
		Long: `Run one or more of Backlot's production roles in this process:

  api        the catalog API (Backstage's /api/catalog), writes to the Kafka event log
  projector  folds the event log into the PostgreSQL read model; the processes of one
             consumer group share the topic's partitions. Also keeps the compacted
             state topic.
  ingester   registers --catalog locations and refreshes every location each
             --refresh-interval; ingesters take a lease per location in PostgreSQL,
             so no location is refreshed by two at once.
  worker     runs the scaffolder's tasks and the fleet migrations on Temporal
             (--temporal-address); workers share the task queues. With a Temporal
             address, the api role also serves /api/scaffolder and /api/migrations.
             Every api and worker process needs the same BACKLOT_SECRETS_KEY (base64
             of 32 bytes), which seals template secrets before they reach Temporal,
             and the same --data folder for the local git host's repositories.
             Point GitHub's and GitLab's pull request webhooks at
             /api/git/hooks/github (or gitlab), signed with
             BACKLOT_WEBHOOK_SECRET, and migrations see a merge at once; without
             BACKLOT_WEBHOOK_SECRET the api refuses those webhooks (403).

The api refuses to start without --auth-tokens (a file of sha256:HEX PRINCIPAL
[GROUP,GROUP] lines, from "backlot auth hash-token" or "backlot auth token
create") unless given --insecure-no-auth: with tokens, every read and write needs
a bearer token, but /healthz, /readyz, /metrics and, with --public-badges, the
badge SVGs. Every action then names a permission that the permission policy
(--permission-policy, or the default one) decides for the token's principal and
groups; a denial answers 403 and is recorded as a backlot.permission.denied.v1
event. With --insecure-no-auth every request acts as user:default/guest, in the
--guest-groups (by default the platform and auditors groups), and the start
logs a warning saying so.

Every flag can be given by its environment variable instead; a flag given on the
command line wins. Every role serves /healthz, /readyz and /metrics on --addr.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags()); err != nil {
				return err
			}
			if err := permissions(); err != nil {
				return err
			}
			if servesAPI(cfg.Roles) {
				if err := auth.CheckStart(auth.Start{Command: "serve", Addr: cfg.Addr, Authenticator: cfg.AuthTokens != "" || cfg.OIDC.Enabled(), InsecureNoAuth: insecureNoAuth}); err != nil {
					return err
				}
				// The issuer's settings are checked before any store is opened.
				if err := cfg.OIDC.Validate(); err != nil {
					return err
				}
			}
			logger, err := newLogger(logFormat)
			if err != nil {
				return err
			}
			cfg.Logger = logger
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			s, err := app.StartServe(ctx, cfg)
			if err != nil {
				return err
			}
			<-ctx.Done()
			logger.Info("shutting down")
			return s.Close()
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&cfg.Roles, "roles", nil,
		"roles to run: "+strings.Join(app.Roles, ", ")+" (default api,projector,ingester, and worker with --temporal-address)")
	f.StringVar(&cfg.Addr, "addr", ":7007", "listen address of the API, health and metrics")
	f.StringSliceVar(&cfg.KafkaBrokers, "kafka-brokers", nil, "Kafka bootstrap brokers, host:port (required)")
	f.StringVar(&cfg.TopicPrefix, "topic-prefix", "backlot.", "prefix of Backlot's Kafka topics")
	f.IntVar(&cfg.Partitions, "partitions", 12, "partitions of the event topic when Backlot creates it")
	f.IntVar(&cfg.ReplicationFactor, "replication-factor", 3, "replication factor of topics Backlot creates (at most the broker count)")
	f.StringVar(&cfg.Group, "group", "backlot-projector", "projector consumer group")
	f.StringVar(&cfg.PostgresURL, "postgres-url", "", "PostgreSQL connection URL of the read models (required)")
	f.StringVar(&cfg.TemporalAddress, "temporal-address", "", "Temporal frontend host:port, for the workflow roles")
	f.StringArrayVar(&cfg.Catalogs, "catalog", nil, "catalog file or URL the ingesters register at start (repeatable)")
	f.StringArrayVar(&cfg.Roots, "root", nil, "folder file locations may read (repeatable)")
	f.StringArrayVar(&cfg.AllowedHosts, "allow-host", []string{"github.com", "gitlab.com"}, "host url locations may read (repeatable)")
	f.StringArrayVar(&cfg.AllowNetworks, "allow-network", nil, "network (CIDR), address or host name that webhook deliveries, git host APIs and url locations may reach although loopback, private, link-local or metadata, e.g. 127.0.0.0/8,10.0.0.0/8 (repeatable, comma-separated; default: public addresses only)")
	f.DurationVar(&cfg.RefreshInterval, "refresh-interval", 30*time.Second, "how often every location is re-read")
	f.StringVar(&cfg.DataDir, "data", "", "folder for the ingesters' git cache (default: a folder under the system temp dir)")
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&cfg.AuthTokens, "auth-tokens", "", "token file (sha256:HEX PRINCIPAL [GROUP,GROUP] per line, see backlot auth hash-token): reads and writes to the api then need a bearer token whose principal becomes the write's actor; required unless --insecure-no-auth")
	f.BoolVar(&insecureNoAuth, "insecure-no-auth", false, "start without --auth-tokens: anyone who reaches the port may read and write")
	f.BoolVar(&cfg.PublicBadges, "public-badges", false, "serve the badge SVGs without a token, so README files can embed them")
	scriptFlags(f, &cfg.Scripts)
	catalogLimitFlags(f, &cfg.Limits)
	catalogKindFlags(f, &cfg.ExtraKinds)
	for fl, env := range catalogLimitEnv {
		bindEnv(f, fl, env)
	}
	oidcFlags(f, &cfg.OIDC, " (required with --oidc-issuer)")
	f.IntVar(&cfg.MaxStreamsPerPrincipal, "max-streams", app.DefaultMaxStreamsPerPrincipal, "open event streams and long polls one principal may hold; more answer 429")
	permissions = permissionFlags(f, &cfg.Permissions)
	for _, fl := range []string{"roles", "addr", "kafka-brokers", "topic-prefix", "partitions", "replication-factor", "group",
		"postgres-url", "temporal-address", "catalog", "root", "allow-host", "allow-network", "refresh-interval", "data", "log-format", "auth-tokens", "insecure-no-auth", "public-badges",
		"insecure-scripts", "script-network", "migration-max-targets", "dry-run-max-targets", "dry-run-max-diff", "max-streams",
		"permission-policy", "platform-group", "auditors-group", "guest-groups"} {
		bindEnv(f, fl, envNames[fl])
	}
	// The custom scaffolder actions' flags (scriptFlags).
	bindEnv(f, "custom-actions", "BACKLOT_CUSTOM_ACTIONS")
	bindEnv(f, "actions-api-url", "BACKLOT_ACTIONS_API_URL")
	return cmd
}

// servesAPI reports whether roles (the --roles flag; empty is the default
// set) include the api, the only role that answers API requests.
func servesAPI(roles []string) bool {
	if len(roles) == 0 {
		return true
	}
	for _, r := range roles {
		if strings.EqualFold(strings.TrimSpace(r), app.RoleAPI) {
			return true
		}
	}
	return false
}

// envNames are the environment variables of serve's flags.
var envNames = map[string]string{
	"roles":              "BACKLOT_ROLES",
	"addr":               "BACKLOT_ADDR",
	"kafka-brokers":      "BACKLOT_KAFKA_BROKERS",
	"topic-prefix":       "BACKLOT_KAFKA_TOPIC_PREFIX",
	"partitions":         "BACKLOT_KAFKA_PARTITIONS",
	"replication-factor": "BACKLOT_KAFKA_REPLICATION_FACTOR",
	"group":              "BACKLOT_PROJECTOR_GROUP",
	"postgres-url":       "BACKLOT_POSTGRES_URL",
	"temporal-address":   "BACKLOT_TEMPORAL_ADDRESS",
	"catalog":            "BACKLOT_CATALOG",
	"root":               "BACKLOT_ROOT",
	"allow-host":         "BACKLOT_ALLOW_HOST",
	"allow-network":      "BACKLOT_ALLOW_NETWORKS",
	"refresh-interval":   "BACKLOT_REFRESH_INTERVAL",
	"data":               "BACKLOT_DATA",
	"log-format":         "BACKLOT_LOG_FORMAT",
	"auth-tokens":        "BACKLOT_AUTH_TOKENS",
	"insecure-no-auth":   "BACKLOT_INSECURE_NO_AUTH",
	"public-badges":      "BACKLOT_PUBLIC_BADGES",
	// The migration scripts' flags (scriptFlags).
	"insecure-scripts":      "BACKLOT_INSECURE_SCRIPTS",
	"script-network":        "BACKLOT_SCRIPT_NETWORK",
	"migration-max-targets": "BACKLOT_MIGRATION_MAX_TARGETS",
	"dry-run-max-targets":   "BACKLOT_DRY_RUN_MAX_TARGETS",
	"dry-run-max-diff":      "BACKLOT_DRY_RUN_MAX_DIFF",
	"max-streams":           "BACKLOT_MAX_STREAMS",
	// The permission policy's flags (permissionFlags).
	"permission-policy": "BACKLOT_PERMISSION_POLICY",
	"platform-group":    "BACKLOT_PLATFORM_GROUP",
	"auditors-group":    "BACKLOT_AUDITORS_GROUP",
	"guest-groups":      "BACKLOT_GUEST_GROUPS",
}

// envAnnotation marks a flag with the environment variable that can set it.
const envAnnotation = "backlot_env"

// bindEnv names env in the flag's usage and remembers it for applyEnv.
func bindEnv(f *pflag.FlagSet, name, env string) {
	fl := f.Lookup(name)
	fl.Usage += " (env " + env + ")"
	_ = f.SetAnnotation(name, envAnnotation, []string{env})
}

// applyEnv sets every flag not given on the command line from its environment
// variable. List flags take comma-separated values.
func applyEnv(f *pflag.FlagSet) error {
	var err error
	f.VisitAll(func(fl *pflag.Flag) {
		envs := fl.Annotations[envAnnotation]
		if err != nil || len(envs) == 0 || fl.Changed {
			return
		}
		v, ok := os.LookupEnv(envs[0])
		if !ok || v == "" {
			return
		}
		if fl.Value.Type() == "stringArray" {
			for _, item := range strings.Split(v, ",") {
				if e := fl.Value.Set(strings.TrimSpace(item)); e != nil {
					err = fmt.Errorf("%s=%q: %w", envs[0], v, e)
					return
				}
			}
			return
		}
		if e := f.Set(fl.Name, v); e != nil {
			err = fmt.Errorf("%s=%q: %w", envs[0], v, e)
		}
	})
	return err
}

// newLogger returns a logger in the given format.
func newLogger(format string) (*slog.Logger, error) {
	switch format {
	case "text", "":
		return slog.New(slog.NewTextHandler(os.Stderr, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, nil)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
