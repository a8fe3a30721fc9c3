package main

import (
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"backlot.dev/backlot/internal/bench"
)

func newBenchCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Benchmarks of a whole Backlot server"}
	cmd.AddCommand(newBenchCatalogCmd(g), newBenchMigrateCmd(g), newBenchScaffoldCmd(g), newBenchSoakCmd(g), newBenchReplayCmd(g), newBenchRecordCmd(), newBenchCompareCmd())
	return cmd
}

func newBenchCatalogCmd(g *globalFlags) *cobra.Command {
	o := bench.CatalogOptions{Progress: os.Stderr}
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "Generate a synthetic catalog, ingest it into backlot dev, and measure",
		Long: `Generates a synthetic Backstage catalog of N entities with realistic relations,
starts backlot dev on a fresh data folder with it, and prints the time until every
entity is queryable with its relations, the p50/p95/p99 latency of a filtered list,
a by-query page, facets and by-name lookups, the time until an edited file's change
is visible after a refresh, and the server's peak resident memory.

With --production it measures backlot serve on Kafka and PostgreSQL instead, every
role in one process, or with --split-roles one process per role (projector,
ingester, api): each process's peak and end memory (anonymous and file-backed)
and CPU time, the broker helper's and the PostgreSQL backends' CPU time, and the
CPU per request of each latency measurement.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.PostgresURL == "" {
				o.PostgresURL = os.Getenv("BACKLOT_POSTGRES_URL")
			}
			if len(o.KafkaBrokers) == 0 && os.Getenv("BACKLOT_KAFKA_BROKERS") != "" {
				o.KafkaBrokers = strings.Split(os.Getenv("BACKLOT_KAFKA_BROKERS"), ",")
			}
			return runBench(g, &o.Backlot, func() (textResult, error) { return bench.Catalog(o) })
		},
	}
	f := cmd.Flags()
	f.IntVarP(&o.Entities, "entities", "n", 10000, "number of entities to generate")
	f.Int64Var(&o.Seed, "seed", 1, "generator seed")
	f.IntVar(&o.Requests, "requests", 300, "requests per latency measurement")
	f.IntVar(&o.Edits, "edits", 20, "edited entities for the change-visibility measurement")
	f.IntVar(&o.PolicyFacts, "policy-facts", 20, "facts reports for the incremental policy evaluation (dev mode; 0 skips the policies phase)")
	f.BoolVar(&o.Keep, "keep", false, "keep the generated catalog and data folder (with --production, also the database)")
	f.StringVar(&o.Dir, "dir", "", "work folder (default: a new temporary folder)")
	f.BoolVar(&o.Production, "production", false, "measure backlot serve (every role in one process) on Kafka and PostgreSQL instead of backlot dev")
	f.BoolVar(&o.NoReplay, "no-replay", false, "with --production: skip the replay of the event topic into a fresh read model at the end")
	f.BoolVar(&o.SplitRoles, "split-roles", false, "with --production: run the projector, ingester and api roles as three backlot serve processes, and report each one's memory and CPU")
	f.StringSliceVar(&o.KafkaBrokers, "kafka-brokers", nil, "with --production: Kafka brokers (env BACKLOT_KAFKA_BROKERS; default: an in-process Kafka-protocol broker, run by the helper program "+bench.BrokerHelperName+")")
	f.StringVar(&o.KafkaBrokerHelper, "kafka-broker-helper", "", "with --production and no --kafka-brokers: the in-process broker helper program (default: "+bench.BrokerHelperName+" beside this binary, else built with go build from the repository in the working directory)")
	f.StringVar(&o.Server, "server", "", "the backlot binary to start as the server (default: this one), e.g. a build of an earlier commit to compare")
	f.StringVar(&o.ProfileDir, "server-profile", "", "profile the server into this folder: cpu.pprof of the whole run, heap-ingested.pprof and heap-end.pprof of its Go heap")
	f.StringVar(&o.PostgresURL, "postgres-url", "", "with --production: PostgreSQL server; a database is created on it and dropped after (env BACKLOT_POSTGRES_URL)")
	return cmd
}

func newBenchReplayCmd(g *globalFlags) *cobra.Command {
	o := bench.ReplayOptions{Progress: os.Stderr}
	cmd := &cobra.Command{
		Use:   "replay",
		Short: "Measure the replay of a Kafka event topic into PostgreSQL with 1, 2 and 4 projectors",
		Long: `Writes N synthetic components to a fresh Kafka topic, then replays the topic into a
fresh PostgreSQL catalog read model once per --projectors count, with that many
projectors sharing the partitions in one consumer group (as serve's projector
processes do), and prints events per second and the CPU time per event of the
projectors, the PostgreSQL backends and the broker. Kafka and PostgreSQL are those of
bench catalog --production.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.PostgresURL == "" {
				o.PostgresURL = os.Getenv("BACKLOT_POSTGRES_URL")
			}
			if len(o.KafkaBrokers) == 0 && os.Getenv("BACKLOT_KAFKA_BROKERS") != "" {
				o.KafkaBrokers = strings.Split(os.Getenv("BACKLOT_KAFKA_BROKERS"), ",")
			}
			return runBench(g, &o.Backlot, func() (textResult, error) { return bench.Replay(cmd.Context(), o) })
		},
	}
	f := cmd.Flags()
	f.IntVarP(&o.Entities, "entities", "n", 100000, "components written to the topic")
	f.Int64Var(&o.Seed, "seed", 1, "generator seed")
	f.IntVar(&o.Partitions, "partitions", 12, "partitions of the topic")
	f.IntSliceVar(&o.Projectors, "projectors", []int{1, 2, 4}, "projector counts to measure, each into a fresh read model")
	f.IntVar(&o.BatchSize, "batch-size", 0, "events a projector applies per transaction (default: the projector's)")
	f.BoolVar(&o.Keep, "keep", false, "keep the database of the last --projectors run")
	f.Int64Var(&o.BulkMin, "bulk-min", 0, "least events folded in bulk into a fresh read model (indexes built at the end); 0 the default (20000), -1 never")
	f.BoolP("production", "", true, "measure on Kafka and PostgreSQL (the only mode: accepted for symmetry with bench catalog)")
	f.StringSliceVar(&o.KafkaBrokers, "kafka-brokers", nil, "Kafka brokers (env BACKLOT_KAFKA_BROKERS; default: the in-process broker helper "+bench.BrokerHelperName+")")
	f.StringVar(&o.KafkaBrokerHelper, "kafka-broker-helper", "", "with no --kafka-brokers: the in-process broker helper program")
	f.StringVar(&o.PostgresURL, "postgres-url", "", "PostgreSQL server; databases are created on it and dropped after (env BACKLOT_POSTGRES_URL)")
	return cmd
}

func newBenchMigrateCmd(g *globalFlags) *cobra.Command {
	o := bench.MigrateOptions{Progress: os.Stderr}
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Measure a migration's orchestration overhead: N local repositories, a no-op change",
		Long: `Creates N repositories on a fresh local git host with their components in a
catalog, starts backlot dev, runs a migration whose script changes nothing (so
every repository is cloned, the script run, and the target found already
migrated), and prints the time from POST /api/migrations to the migration's end,
per repository, and the largest history (events) of any workflow execution in
the run, parent runs and per-repository children alike.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBench(g, &o.Backlot, func() (textResult, error) { return bench.Migrate(cmd.Context(), o) })
		},
	}
	cmd.Flags().IntVar(&o.Repos, "repos", 1000, "repositories to migrate")
	cmd.Flags().IntVar(&o.Concurrent, "concurrent", 50, "the migration's maxConcurrent")
	cmd.Flags().BoolVar(&o.Keep, "keep", false, "keep the data folder")
	return cmd
}

func newBenchScaffoldCmd(g *globalFlags) *cobra.Command {
	o := bench.ScaffoldOptions{Progress: os.Stderr}
	cmd := &cobra.Command{
		Use:   "scaffold",
		Short: "Measure backlot dev's start-up with Temporal inside, and the example template from POST to a registered component",
		Long: `Starts backlot dev with the example go-service template on a fresh data folder and
measures the time until it is ready (Temporal, its worker and the catalog), then
runs the template N times one after another and measures each from POST
/api/scaffolder/v2/tasks until the new component is readable by name, then
restarts the server on the same data and measures the start-up again.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBench(g, &o.Backlot, func() (textResult, error) { return bench.Scaffold(o) })
		},
	}
	cmd.Flags().IntVar(&o.Tasks, "tasks", 20, "tasks to run")
	return cmd
}

// textResult is a bench's result: printed as JSON with --output json, else
// as the bench's text.
type textResult interface{ WriteText(w io.Writer) }

// runBench points the bench at this binary (*backlot), runs it and prints
// its result.
func runBench(g *globalFlags, backlot *string, run func() (textResult, error)) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	*backlot = exe
	res, err := run()
	if err != nil {
		return err
	}
	if g.json() {
		return printJSON(os.Stdout, res)
	}
	res.WriteText(os.Stdout)
	return nil
}
