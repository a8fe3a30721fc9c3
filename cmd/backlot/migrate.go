package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"backlot.dev/backlot/internal/client"
)

func newMigrateCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "migrate", Short: "Run fleet migrations: one change, scripted, as paced change requests across many repositories"}
	var dryRun, watch bool
	run := &cobra.Command{
		Use:   "run FILE [--dry-run] [--watch]",
		Short: "Start the migration of a spec file (YAML or JSON), or preview it",
		Long: `Start the migration a Migration spec describes: its targets are chosen from the
catalog (spec.targets.selector, a CEL expression over entity, or spec.targets.refs),
each target's repository is its backstage.io/source-location. With --dry-run
nothing is pushed: the command prints the targets, the entities skipped and why,
and each repository's diff. With --watch it follows the migration's progress.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			body, err := specJSON(raw)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			c := g.client()
			plan, err := c.StartMigration(cmd.Context(), body, dryRun)
			if err != nil {
				return err
			}
			if g.json() && !watch {
				if err := printJSON(os.Stdout, plan); err != nil {
					return err
				}
				return planFailed(plan)
			}
			printPlan(os.Stdout, plan)
			if err := planFailed(plan); err != nil {
				return err
			}
			if watch && !dryRun {
				return watchMigration(cmd.Context(), c, os.Stdout, plan.ID, g.json())
			}
			return nil
		},
	}
	run.Flags().BoolVar(&dryRun, "dry-run", false, "print the targets and each repository's diff; push nothing")
	run.Flags().BoolVar(&watch, "watch", false, "follow the progress until the migration ends")
	var statusWatch bool
	status := &cobra.Command{
		Use:   "status ID [--watch]",
		Short: "Show a migration's progress: counts per state, a row per repository, the burndown",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := g.client()
			if statusWatch {
				return watchMigration(cmd.Context(), c, os.Stdout, args[0], g.json())
			}
			r, err := c.Migration(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(os.Stdout, r)
			}
			printReport(os.Stdout, r)
			return nil
		},
	}
	status.Flags().BoolVar(&statusWatch, "watch", false, "redraw the progress until the migration ends")
	list := &cobra.Command{
		Use: "list", Short: "List migrations", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ms, err := g.client().Migrations(cmd.Context())
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(os.Stdout, ms)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATE\tDONE\tFAILED\tOPEN\tLEFT")
			for _, m := range ms {
				done, failed, open, left := tally(m)
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", m.ID, m.State, done, failed, open, left)
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(run, status, list)
	for _, op := range []struct{ name, short string }{
		{"pause", "Stop opening new change requests; running ones finish"},
		{"resume", "Open change requests again (and go past a wave that stopped the rollout)"},
		{"cancel", "Cancel running targets; the others never start"},
		{"retry-failed", "Run the failed targets again, and only them"},
		{"close-prs", "Close every open change request of the migration"},
	} {
		cmd.AddCommand(&cobra.Command{
			Use: op.name + " ID", Short: op.short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := g.client().ControlMigration(cmd.Context(), args[0], op.name); err != nil {
					return err
				}
				fmt.Fprintf(os.Stderr, "%s sent to %s\n", op.name, args[0])
				return nil
			},
		})
	}
	return cmd
}

func printPlan(w io.Writer, p client.MigrationPlan) {
	if p.DryRun {
		fmt.Fprintf(w, "dry run of %s: %d targets, %d skipped\n", p.Name, len(p.Targets), len(p.Skipped))
	} else {
		fmt.Fprintf(w, "migration %s started: %d targets, %d skipped\n", p.ID, len(p.Targets), len(p.Skipped))
	}
	for _, s := range p.Skipped {
		fmt.Fprintf(w, "  skipped %s: %s\n", s.Ref, s.Reason)
	}
	for _, pv := range p.Previews {
		switch {
		case pv.Error != "":
			fmt.Fprintf(w, "--- %s (%s): error: %s\n%s\n", pv.Ref, pv.Repo, pv.Error, pv.Output)
		case pv.Unchanged:
			fmt.Fprintf(w, "--- %s (%s): no change (already migrated)\n", pv.Ref, pv.Repo)
		default:
			fmt.Fprintf(w, "--- %s (%s)\n%s", pv.Ref, pv.Repo, pv.Diff)
		}
	}
}

// tally counts a report's targets: done (merged, unchanged, closed),
// failed, open change requests, and left (pending, targeted).
func tally(r client.MigrationReport) (done, failed, open, left int) {
	c := r.Counts
	done = c[client.TargetMerged] + c[client.TargetUnchanged] + c[client.TargetClosed]
	failed = c[client.TargetFailed]
	open = c[client.TargetOpened] + c[client.TargetChecksPassed]
	left = c[client.TargetPending] + c[client.TargetTargeted]
	return
}

// failed counts a report's failed targets.
func failed(r client.MigrationReport) int { return r.Counts[client.TargetFailed] }

// bar draws a progress bar of width cells.
func bar(done, total, width int) string {
	if total == 0 {
		return "[" + strings.Repeat(" ", width) + "]"
	}
	n := done * width / total
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

func printReport(w io.Writer, r client.MigrationReport) {
	done, failed, open, left := tally(r)
	total := len(r.Targets)
	if total == 0 {
		for _, n := range r.Counts {
			total += n
		}
	}
	fmt.Fprintf(w, "%s  %s  wave %d/%d\n", r.ID, r.State, r.Wave, len(r.Waves))
	fmt.Fprintf(w, "%s %d/%d done, %d open, %d failed, %d to go\n", bar(done, total, 40), done, total, open, failed, left)
	if r.Reason != "" {
		fmt.Fprintf(w, "reason: %s\n", r.Reason)
	}
	if !r.RetryUntil.IsZero() {
		fmt.Fprintf(w, "every target has finished; the failed ones run again on retry-failed until %s\n", r.RetryUntil.Format(time.RFC3339))
	}
	states := make([]string, 0, len(r.Counts))
	for s, n := range r.Counts {
		if n > 0 {
			states = append(states, fmt.Sprintf("%s %d", s, n))
		}
	}
	sort.Strings(states)
	fmt.Fprintf(w, "states: %s\n", strings.Join(states, ", "))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tSTATE\tCHANGE\tERROR")
	for _, t := range r.Targets {
		change := ""
		if t.Change > 0 {
			change = t.ChangeURL
		}
		msg := t.Error
		if t.Output != "" && t.State == client.TargetFailed {
			msg += " | " + lastLine(t.Output)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Ref, t.State, change, msg)
	}
	tw.Flush()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// specJSON turns a spec file (YAML or JSON) into the JSON the API takes.
// Scalars keep the text they were written with: a date such as
// 2027-01-31, which YAML would read as a timestamp, stays the string the
// spec means.
func specJSON(raw []byte) ([]byte, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(raw, &n); err != nil {
		return nil, err
	}
	untime(&n)
	var doc any
	if err := n.Decode(&doc); err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}

// untime tags every timestamp scalar under n as a string.
func untime(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!timestamp" {
		n.Tag = "!!str"
	}
	for _, c := range n.Content {
		untime(c)
	}
}

// planFailed is the error of a dry run in which every previewed target
// failed; nil otherwise.
func planFailed(p client.MigrationPlan) error {
	if !p.DryRun || len(p.Previews) == 0 {
		return nil
	}
	for _, pv := range p.Previews {
		if pv.Error == "" {
			return nil
		}
	}
	return fmt.Errorf("dry run of %s: every one of the %d targets failed", p.Name, len(p.Previews))
}

// watchMigration redraws the progress every second until the migration
// ends; with JSON it prints the last report.
func watchMigration(ctx context.Context, c *client.Client, w io.Writer, id string, asJSON bool) error {
	tty := isTerminal(w)
	for {
		r, err := c.Migration(ctx, id)
		if err != nil {
			return err
		}
		if !asJSON {
			if tty {
				fmt.Fprint(w, "\033[H\033[2J")
			}
			done, failed, open, left := tally(r)
			total := done + failed + open + left + r.Counts[client.TargetCancelled]
			fmt.Fprintf(w, "%s %s %s %d/%d done, %d open, %d failed\n", time.Now().Format("15:04:05"), r.State, bar(done, total, 40), done, total, open, failed)
		}
		if r.Finished() {
			if asJSON {
				if err := printJSON(w, r); err != nil {
					return err
				}
			} else {
				printReport(w, r)
			}
			switch {
			case !r.RetryUntil.IsZero():
				return fmt.Errorf("migration %s: every target has finished, %d failed; `backlot migrate retry-failed %s` runs them again (until %s)",
					id, failed(r), id, r.RetryUntil.Format(time.RFC3339))
			case r.State != client.MigrationCompleted:
				return fmt.Errorf("migration %s %s: %s", id, r.State, r.Reason)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// isTerminal reports whether w is a terminal, where redrawing in place works.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
