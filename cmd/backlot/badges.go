package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"backlot.dev/backlot/internal/client"
)

// addBadgeCommands adds the commands that read policy results and badges
// and report facts to the policies command.
func addBadgeCommands(cmd *cobra.Command, g *globalFlags) {
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the catalog's policies and their compile errors",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, err := g.client().Policies(cmd.Context())
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(os.Stdout, out)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTITLE\tLEVELS\tCHECKS\tERRORS")
			for _, p := range out.Items {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\n", p.ID, p.Title, strings.Join(p.Levels, ","), p.Checks, len(p.Errors))
			}
			return tw.Flush()
		},
	})

	var level, owner, check string
	var limit int
	results := &cobra.Command{
		Use:   "results POLICY [--level L] [--owner REF] [--check ID]",
		Short: "A policy's results: counts per level, per owner, and the entities with their failing checks",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"level": level, "owner": owner, "check": check} {
				if v != "" {
					q.Set(k, v)
				}
			}
			q.Set("limit", fmt.Sprint(limit))
			out, err := g.client().PolicyResults(cmd.Context(), args[0], q)
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(os.Stdout, out)
			}
			return printResults(os.Stdout, out.Policy.Levels, out.Total, out.Counts, func(tw io.Writer) {
				for _, o := range out.Owners {
					fmt.Fprintf(tw, "%s\t%d\t%s\n", orNone(o.Owner), o.Total, countsLine(out.Policy.Levels, o.Counts))
				}
			}, func(tw io.Writer) {
				for _, it := range out.Items {
					var failing []string
					for _, f := range it.Failing {
						failing = append(failing, f.ID)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\n", it.Entity, orNone(it.Level), strings.Join(failing, ","))
				}
			})
		},
	}
	results.Flags().StringVar(&level, "level", "", "only entities at this level (none for no level)")
	results.Flags().StringVar(&owner, "owner", "", "only entities of this owner (group:default/team-a)")
	results.Flags().StringVar(&check, "check", "", "only entities failing this check")
	results.Flags().IntVar(&limit, "limit", 100, "at most this many entities")
	cmd.AddCommand(results)

	var asOf string
	badgesCmd := &cobra.Command{
		Use:   "badges REF [--as-of TIME]",
		Short: "Every policy's level on an entity, with its failing checks (now, or at an instant)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := g.client()
			if asOf != "" {
				at, err := instantOrPosition(asOf, time.Now().UTC())
				if err != nil {
					return fmt.Errorf("--as-of: %w", err)
				}
				c = c.AsOf(at)
			}
			bs, err := c.EntityBadges(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if len(bs) == 0 {
				// No verdict: say whether the entity is there at all.
				e, err := c.EntityByRef(cmd.Context(), args[0])
				if client.IsNotFound(err) || (err == nil && e == nil) {
					return fmt.Errorf("entity %s not found", args[0])
				}
				if err != nil {
					return err
				}
			}
			if g.json() {
				return printJSON(os.Stdout, bs)
			}
			if len(bs) == 0 {
				fmt.Println("no policy rates", args[0])
				return nil
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "POLICY\tLEVEL\tSINCE\tFAILING")
			for _, b := range bs {
				var failing []string
				for _, f := range b.Failing() {
					failing = append(failing, f.ID)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", b.Policy, orNone(b.Level), b.Since.Time.Format(time.RFC3339), strings.Join(failing, ","))
			}
			return tw.Flush()
		},
	}
	badgesCmd.Flags().StringVar(&asOf, "as-of", "", "a log position or an instant: "+instantHelp)
	cmd.AddCommand(badgesCmd)

	facts := &cobra.Command{Use: "facts", Short: "Report facts about entities and declare the schemas of their sources"}
	var entity, source string
	report := &cobra.Command{
		Use:   "report --entity REF --source NAME FILE.json|-",
		Short: "Report the facts of a JSON object file (or standard input) about an entity",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := readArg(args[0])
			if err != nil {
				return err
			}
			if err := g.client().ReportFacts(cmd.Context(), []client.FactItem{{Entity: entity, Source: source, Facts: raw}}); err != nil {
				return err
			}
			fmt.Printf("reported %s facts about %s\n", source, entity)
			return nil
		},
	}
	report.Flags().StringVar(&entity, "entity", "", "the entity (kind:namespace/name)")
	report.Flags().StringVar(&source, "source", "", "the reporting system (ci, coverage, security, …)")
	schema := &cobra.Command{
		Use:   "schema SOURCE FILE.json|-",
		Short: "Declare the JSON Schema the facts of SOURCE must follow",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := readArg(args[1])
			if err != nil {
				return err
			}
			if err := g.client().DeclareFactSource(cmd.Context(), args[0], json.RawMessage(raw)); err != nil {
				return err
			}
			fmt.Printf("source %s: schema declared\n", args[0])
			return nil
		},
	}
	facts.AddCommand(report, schema)
	cmd.AddCommand(facts)
}

// readArg reads a file, or standard input for "-".
func readArg(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(name)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// countsLine renders counts per level, highest first, then none.
func countsLine(levels []string, counts map[string]int) string {
	var parts []string
	for i := len(levels) - 1; i >= 0; i-- {
		parts = append(parts, fmt.Sprintf("%s %d", levels[i], counts[levels[i]]))
	}
	return strings.Join(append(parts, fmt.Sprintf("none %d", counts["none"])), ", ")
}

// printResults prints a policy's totals, its roll-up per owner and the entities.
func printResults(w io.Writer, levels []string, total int, counts map[string]int, owners, items func(io.Writer)) error {
	fmt.Fprintf(w, "%d entities: %s\n\n", total, countsLine(levels, counts))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OWNER\tTOTAL\tLEVELS")
	owners(tw)
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "ENTITY\tLEVEL\tFAILING")
	items(tw)
	return tw.Flush()
}
