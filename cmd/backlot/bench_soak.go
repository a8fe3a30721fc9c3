package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"backlot.dev/backlot/internal/bench"
)

func newBenchSoakCmd(g *globalFlags) *cobra.Command {
	o := bench.SoakOptions{Progress: os.Stderr}
	cmd := &cobra.Command{
		Use:   "soak",
		Short: "Run readers, writers and change-feed followers against a server for a while, and check nothing is lost",
		Long: `Generates a catalog, starts backlot dev on it (or with --production, backlot serve as
one projector-and-ingester process and --api-processes api processes on Kafka and
PostgreSQL), and runs for --duration: --readers readers of filtered lists, by-query
pages and facets; --writers writers registering file locations of their own, editing
them (and asking for a refresh) and reporting facts; and --followers followers of
GET /api/events/stream, spread over the api processes. It prints the throughput, the
p50/p99 latency and errors of each endpoint, checks that every follower saw every
event of the log exactly once and in order per subject, and samples each process's
resident memory (first, last and largest). It exits with an error when any request
failed or any follower lost, doubled or reordered an event.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.PostgresURL == "" {
				o.PostgresURL = os.Getenv("BACKLOT_POSTGRES_URL")
			}
			if len(o.KafkaBrokers) == 0 && os.Getenv("BACKLOT_KAFKA_BROKERS") != "" {
				o.KafkaBrokers = strings.Split(os.Getenv("BACKLOT_KAFKA_BROKERS"), ",")
			}
			var res *bench.SoakResult
			err := runBench(g, &o.Backlot, func() (textResult, error) {
				r, err := bench.Soak(cmd.Context(), o)
				res = r
				return r, err
			})
			if err == nil && !res.Clean() {
				return fmt.Errorf("the soak was not clean: %d errors, %d lost, %d doubled, %d extra, %d out of order, %d of %d writer entities not in the log",
					res.Errors, res.Events.Lost, res.Events.Doubled, res.Events.Extra, res.Events.OutOfOrder, res.Events.WriterRefsMissing, res.Events.WriterRefs)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.DurationVar(&o.Duration, "duration", 0, "how long the load runs (default 10m)")
	f.IntVar(&o.Readers, "readers", 0, "concurrent readers of lists, by-query pages and facets (default 200)")
	f.IntVar(&o.Writers, "writers", 0, "concurrent writers registering and editing locations and reporting facts (default 20)")
	f.IntVar(&o.Followers, "followers", 0, "followers of the change feed's Server-Sent Events (default 20)")
	f.DurationVar(&o.WriterPause, "writer-pause", 0, "each writer's pause between two writes (default 250ms)")
	f.IntVarP(&o.Entities, "entities", "n", 0, "entities of the catalog loaded before the load (default 2000)")
	f.Int64Var(&o.Seed, "seed", 1, "generator seed")
	f.BoolVar(&o.Keep, "keep", false, "keep the work folder")
	f.StringVar(&o.CPUProfile, "server-cpuprofile", "", "write the server's CPU profile of the whole soak to this file (with --production, one per serve process: cpu.pprof becomes cpu-core.pprof, cpu-api-1.pprof, ...)")
	f.StringVar(&o.Server, "server", "", "the backlot binary to start as the servers (default: this one), e.g. a build of an earlier commit to compare")
	f.StringVar(&o.Dir, "dir", "", "work folder (default: a new temporary folder)")
	f.BoolVar(&o.Production, "production", false, "soak backlot serve on Kafka and PostgreSQL (a projector+ingester process and --api-processes api processes) instead of backlot dev")
	f.IntVar(&o.APIProcesses, "api-processes", 0, "with --production: api processes (default 2)")
	f.StringSliceVar(&o.KafkaBrokers, "kafka-brokers", nil, "with --production: Kafka brokers (env BACKLOT_KAFKA_BROKERS; default: the in-process broker helper "+bench.BrokerHelperName+")")
	f.StringVar(&o.KafkaBrokerHelper, "kafka-broker-helper", "", "with --production and no --kafka-brokers: the in-process broker helper program")
	f.StringVar(&o.PostgresURL, "postgres-url", "", "with --production: PostgreSQL server; a database is created on it and dropped after (env BACKLOT_POSTGRES_URL)")
	return cmd
}
