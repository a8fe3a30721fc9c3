package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"backlot.dev/backlot/internal/rebuild"
)

func newProjectionsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "projections", Short: "Manage read models"}
	var dataDir string
	var pg rebuild.PostgresOptions
	rebuild := &cobra.Command{
		Use:   "rebuild",
		Short: "Replay the event log from the start into a fresh catalog read model",
		Long: `Replays the event log into a new read model and replaces the old one. Stop ` + "`backlot dev`" + ` first.

With --postgres-url it replays the Kafka event topic instead
into the PostgreSQL catalog read model of that database, which should be a new one:
--projectors projectors share the topic's partitions in one consumer group, a fresh
database is folded without the indexes that take random keys (built once at the end),
and a rebuild stopped part-way carries on from the positions it recorded. Point
` + "`backlot serve`" + ` at the database once it is done.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Only the flag chooses PostgreSQL: a BACKLOT_POSTGRES_URL set for
			// serve must not turn a rebuild of dev's data folder into another one.
			if pg.PostgresURL != "" {
				if len(pg.Brokers) == 0 && os.Getenv("BACKLOT_KAFKA_BROKERS") != "" {
					pg.Brokers = strings.Split(os.Getenv("BACKLOT_KAFKA_BROKERS"), ",")
				}
				pg.Progress = os.Stderr
				stats, err := rebuild.PostgresCatalog(cmd.Context(), pg)
				if err != nil {
					return err
				}
				fmt.Printf("rebuilt the PostgreSQL catalog read model from %d events with %d projectors in %s (%.0f events/s)\n", stats.Events, pg.Members, stats.Took.Round(1e6), stats.Rate())
				return nil
			}
			stats, err := rebuild.Catalog(cmd.Context(), dataDir, os.Stderr)
			if err != nil {
				return err
			}
			fmt.Printf("rebuilt the catalog read model from %d events in %s (%.0f events/s)\n", stats.Events, stats.Took.Round(1e6), stats.Rate())
			return nil
		},
	}
	f := rebuild.Flags()
	f.StringVar(&dataDir, "data", ".data", "data folder of backlot dev")
	f.StringVar(&pg.PostgresURL, "postgres-url", "", "rebuild the PostgreSQL catalog read model of this database from the Kafka topic instead of dev's data folder")
	f.StringSliceVar(&pg.Brokers, "kafka-brokers", nil, "with --postgres-url: Kafka brokers (env BACKLOT_KAFKA_BROKERS)")
	f.StringVar(&pg.TopicPrefix, "topic-prefix", "", "with --postgres-url: prefix of the event topic's name, as serve's (default backlot.)")
	f.StringVar(&pg.Group, "group", "backlot-rebuild", "with --postgres-url: the consumer group the projectors join")
	f.IntVar(&pg.Members, "projectors", 1, "with --postgres-url: projectors sharing the topic's partitions")
	f.IntVar(&pg.BatchSize, "batch-size", 0, "with --postgres-url: events per transaction (default: the projector's)")
	cmd.AddCommand(rebuild)
	return cmd
}
