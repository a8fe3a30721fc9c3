package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/client"
)

func newAuditCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "The catalog's history: versions, the catalog at any instant, diffs, the raw log, and proof nothing was altered"}
	cmd.AddCommand(newAuditHistoryCmd(g), newAuditAsOfCmd(g), newAuditDiffCmd(g), newAuditEventsCmd(g),
		newAuditVerifyCmd(g), newAuditExportCmd(g), newAuditReplayCmd(g))
	return cmd
}

func newAuditEventsCmd(g *globalFlags) *cobra.Command {
	var q client.EventQuery
	var since, until string
	var all bool
	cmd := &cobra.Command{
		Use:   "events",
		Short: "List events of the log, filtered by subject, type, actor and time",
		Example: `  backlot audit events --subject component:default/checkout
  backlot audit events --type backlot.entity.removed.v1 --since 2026-11-01T00:00:00Z -o json`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now := time.Now().UTC()
			for name, spec := range map[string]struct {
				v   string
				dst *time.Time
			}{"--since": {since, &q.From}, "--until": {until, &q.To}} {
				if spec.v == "" {
					continue
				}
				t, err := parseInstant(spec.v, now)
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				*spec.dst = t
			}
			if q.Limit <= 0 || q.Limit > 1000 {
				q.Limit = 1000
			}
			c := g.client()
			var items []client.AuditEvent
			for {
				page, next, err := c.AuditEvents(cmd.Context(), q)
				if err != nil {
					return err
				}
				items = append(items, page...)
				if next == "" || !all {
					break
				}
				q.After, _ = event.ParsePositions(next)
			}
			if g.json() {
				return printJSON(os.Stdout, items)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "POSITION\tTIME\tTYPE\tSUBJECT\tACTOR\tCOMMIT")
			for _, it := range items {
				e := it.Event
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", positionText(it.Partition, it.Position), e.Time.Format(time.RFC3339), e.Type, e.Subject, e.Actor, short(e.Commit))
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.Subject, "subject", "", "only events about this entity ref")
	f.StringSliceVar(&q.Types, "type", nil, "only events of these types, in full as listed (backlot.entity.upserted.v1; repeatable, or comma separated)")
	f.StringSliceVar(&q.Types, "types", nil, "")
	f.MarkDeprecated("types", "use --type")
	f.StringVar(&q.Actor, "actor", "", "only events made by this actor (user:default/ada, location:ID)")
	f.StringVar(&q.Correlation, "correlation", "", "only the events of one request, refresh, task (its id) or migration")
	f.StringVar(&since, "since", "", "only events at or after this instant: "+instantHelp)
	f.StringVar(&until, "until", "", "only events before this instant: "+instantHelp)
	f.IntVar(&q.Limit, "limit", 100, "events per page (at most 1000)")
	f.BoolVar(&all, "all", false, "read every page, not only the first")
	return cmd
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func newAuditVerifyCmd(g *globalFlags) *cobra.Command {
	var checkpoints []string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Recompute the log's hash chain and name every event that does not match",
		Long: `Asks the server to recompute the hash chain over its event log from the first
event, and to compare it with the link stored beside each event and with the
checkpoints given. It names events deleted (missing positions), altered or
inserted (content that does not hash to its link) and moved (reordered). The head
link it prints is a checkpoint: keep it outside Backlot and pass it back later
with --checkpoint POSITION:LINK to detect a log rewritten wholesale. Exits with
status 1 when anything does not match.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cps := map[int64]string{}
			for _, c := range checkpoints {
				pos, link, ok := strings.Cut(c, ":")
				n, err := strconv.ParseInt(pos, 10, 64)
				if !ok || err != nil || n < 1 || len(link) != 64 {
					return fmt.Errorf("--checkpoint %q: want POSITION:LINK (a 64-digit hex link)", c)
				}
				cps[n] = link
			}
			start := time.Now()
			rep, err := g.client().AuditVerify(cmd.Context(), cps, func(done, total int64) {
				if total > 0 {
					fmt.Fprintf(os.Stderr, "\rverifying: %d/%d events (%.0f%%)", done, total, 100*float64(done)/float64(total))
				}
			})
			fmt.Fprintln(os.Stderr)
			if err != nil {
				return err
			}
			if g.json() {
				if err := printJSON(os.Stdout, rep); err != nil {
					return err
				}
			} else {
				fmt.Printf("%d events verified in %s; head %d:%s\n", rep.Events, time.Since(start).Round(time.Millisecond), rep.Head, rep.HeadLink)
				for _, p := range rep.Problems {
					fmt.Printf("%-10s position %-8d %s\n", p.Kind, p.Position, p.Detail)
				}
			}
			if !rep.OK() {
				cmd.SilenceErrors = true
				return fmt.Errorf("%d problems found", len(rep.Problems))
			}
			if !g.json() {
				fmt.Println("the log is intact")
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&checkpoints, "checkpoint", nil, "POSITION:LINK recorded earlier (repeatable)")
	return cmd
}
