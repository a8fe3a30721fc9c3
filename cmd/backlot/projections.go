package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"backlot.dev/backlot/internal/rebuild"
)

func newProjectionsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "projections", Short: "Manage read models"}
	var dataDir string
	rebuild := &cobra.Command{
		Use:   "rebuild",
		Short: "Replay the event log from the start into a fresh catalog read model",
		Long:  "Replays the event log into a new read model and replaces the old one. Stop `backlot dev` first.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			stats, err := rebuild.Catalog(cmd.Context(), dataDir, os.Stderr)
			if err != nil {
				return err
			}
			fmt.Printf("rebuilt the catalog read model from %d events in %s (%.0f events/s)\n", stats.Events, stats.Took.Round(1e6), stats.Rate())
			return nil
		},
	}
	rebuild.Flags().StringVar(&dataDir, "data", ".data", "data folder of backlot dev")
	cmd.AddCommand(rebuild)
	return cmd
}
