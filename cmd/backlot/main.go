package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "backlot:", err)
		os.Exit(1)
	}
}

// globalFlags are shared by the client commands.
type globalFlags struct {
	url        string
	token      string
	output     string
	cpuProfile string
}

func newRootCmd() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:           "backlot",
		Short:         "Backlot: a developer portal backend whose every catalog change is an event",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	defURL := os.Getenv("BACKLOT_URL")
	if defURL == "" {
		defURL = "http://127.0.0.1:7007"
	}
	root.PersistentFlags().StringVar(&g.url, "url", defURL, "Backlot server URL (env BACKLOT_URL)")
	root.PersistentFlags().StringVar(&g.token, "token", os.Getenv("BACKLOT_TOKEN"), "bearer token for writes, when the server requires one (env BACKLOT_TOKEN)")
	root.PersistentFlags().StringVarP(&g.output, "output", "o", "table", "output format: table or json")
	root.PersistentFlags().StringVar(&g.cpuProfile, "cpuprofile", "", "write a Go CPU profile of the command to this file")
	var profile *os.File
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if g.cpuProfile == "" {
			return nil
		}
		f, err := os.Create(g.cpuProfile)
		if err != nil {
			return err
		}
		profile = f
		return pprof.StartCPUProfile(f)
	}
	root.PersistentPostRun = func(*cobra.Command, []string) {
		if profile != nil {
			pprof.StopCPUProfile()
			profile.Close()
		}
	}
	root.AddCommand(newDevCmd(), newServeCmd(), newCatalogCmd(g), newAuditCmd(g), newEventsCmd(g), newProjectionsCmd(), newBenchCmd(g), newPoliciesCmd(g), newScaffoldCmd(g), newMigrateCmd(g), newTemporalCmd())
	return root
}
