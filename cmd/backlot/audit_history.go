package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"backlot.dev/backlot/domain/catalog"
)

func newAuditHistoryCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "history REF",
		Short:   "Every version of an entity: when, who or which commit, and what changed",
		Example: "  backlot audit history component:default/checkout",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			vs, err := g.client().EntityHistory(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(os.Stdout, vs)
			}
			for _, v := range vs {
				who := v.Actor
				if v.Commit != nil {
					who += fmt.Sprintf(", commit %s by %s <%s>", short(v.Commit.SHA), v.Commit.Author, v.Commit.Email)
				}
				state := "version"
				if v.Removed {
					state = "removed"
				}
				fmt.Printf("%s %d  %s  position %s  %s\n", state, v.Number, v.ValidFrom.Time.Format(time.RFC3339), positionText(v.ValidFrom.Partition, v.ValidFrom.Position), who)
				printChanges(v.Changes, v.Number == 1)
			}
			return nil
		},
	}
}

// printChanges prints field changes indented; a first version is summed up.
func printChanges(changes []catalog.FieldChange, created bool) {
	if created {
		fmt.Println("    created")
		return
	}
	for _, c := range changes {
		switch c.Op {
		case catalog.OpAdded:
			fmt.Printf("    + %s: %v\n", c.Path, c.After)
		case catalog.OpRemoved:
			fmt.Printf("    - %s: %v\n", c.Path, c.Before)
		default:
			fmt.Printf("    ~ %s: %v -> %v\n", c.Path, c.Before, c.After)
		}
	}
}

func newAuditAsOfCmd(g *globalFlags) *cobra.Command {
	var filters []string
	cmd := &cobra.Command{
		Use:   "as-of TIME",
		Short: "List the catalog as it was at an instant (now, -2h, a date, an RFC 3339 time) or a log position",
		Example: `  backlot audit as-of 2026-11-01T00:00:00Z --filter kind=component
  backlot audit as-of 1200 -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			at, err := instantOrPosition(args[0], time.Now().UTC())
			if err != nil {
				return err
			}
			ents, err := g.client().AsOf(at).Entities(cmd.Context(), filters, nil)
			if err != nil {
				return err
			}
			return printEntities(g, ents, " at "+args[0])
		},
	}
	cmd.Flags().StringArrayVar(&filters, "filter", nil, "Backstage filter (repeatable: OR)")
	return cmd
}

func newAuditDiffCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "diff FROM TO",
		Short:   "The entities added, removed and changed between two instants, field by field",
		Example: "  backlot audit diff 2026-11-01T00:00:00Z 2026-11-25T00:00:00Z",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			now := time.Now().UTC()
			from, err := instantOrPosition(args[0], now)
			if err != nil {
				return err
			}
			to, err := instantOrPosition(args[1], now)
			if err != nil {
				return err
			}
			d, err := g.client().AuditDiff(cmd.Context(), from, to)
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(os.Stdout, d)
			}
			for _, e := range d.Added {
				fmt.Printf("added    %s\n", e.Ref)
			}
			for _, e := range d.Removed {
				fmt.Printf("removed  %s\n", e.Ref)
			}
			for _, e := range d.Changed {
				fmt.Printf("changed  %s\n", e.Ref)
				printChanges(e.Changes, false)
			}
			fmt.Fprintf(os.Stderr, "%s\n", strings.Join([]string{
				fmt.Sprintf("%d added", len(d.Added)), fmt.Sprintf("%d removed", len(d.Removed)), fmt.Sprintf("%d changed", len(d.Changed))}, ", "))
			return nil
		},
	}
}
