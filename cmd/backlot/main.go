package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	root := newRootCmd()
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "backlot:", explain(err, root.PersistentFlags().Lookup("url").Value.String()))
		os.Exit(1)
	}
}

// explain adds what to do to an error a user can act on: a server that
// refuses the connection is one that is not running.
func explain(err error, url string) error {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("cannot reach Backlot at %s: connection refused — start it with `make run` or `backlot dev`, or set BACKLOT_URL (or --url) to where it runs", url)
	}
	return err
}

// outputFormats are the values --output takes.
var outputFormats = []string{"table", "json"}

// requireSubcommand makes every command that only groups others (and does
// nothing by itself) refuse an argument that names no subcommand, with the
// subcommands it has, instead of printing its help and succeeding. Without
// arguments it prints its help.
func requireSubcommand(c *cobra.Command) {
	for _, sub := range c.Commands() {
		requireSubcommand(sub)
	}
	if !c.HasSubCommands() || c.Run != nil || c.RunE != nil || !c.HasParent() {
		return
	}
	c.Args = cobra.ArbitraryArgs
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		var names []string
		for _, sub := range cmd.Commands() {
			if sub.IsAvailableCommand() {
				names = append(names, sub.Name())
			}
		}
		msg := fmt.Sprintf("unknown command %q for %q (its commands: %s)", args[0], cmd.CommandPath(), strings.Join(names, ", "))
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += fmt.Sprintf("; did you mean %q?", s[0])
		}
		return errors.New(msg)
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
	root.PersistentFlags().StringVar(&g.token, "token", os.Getenv("BACKLOT_TOKEN"), "bearer token sent with every request, when the server requires one (env BACKLOT_TOKEN)")
	root.PersistentFlags().StringVarP(&g.output, "output", "o", "table", "output format: table or json")
	root.PersistentFlags().StringVar(&g.cpuProfile, "cpuprofile", "", "write a Go CPU profile of the command to this file")
	var profile *os.File
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if !slices.Contains(outputFormats, g.output) {
			return fmt.Errorf("--output %q: want one of %s", g.output, strings.Join(outputFormats, ", "))
		}
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
	root.AddCommand(newDevCmd(), newServeCmd(), newCatalogCmd(g), newAuditCmd(g), newEventsCmd(g), newProjectionsCmd(), newBenchCmd(g), newPoliciesCmd(g), newScaffoldCmd(g), newMigrateCmd(g), newTemporalCmd(), newAuthCmd(g), newLoginCmd(g), newLogoutCmd(g))
	requireSubcommand(root)
	return root
}
