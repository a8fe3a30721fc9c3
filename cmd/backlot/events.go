package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/httpapi"
)

func newEventsCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "events", Short: "The catalog's change stream"}
	cmd.AddCommand(newEventsTailCmd(g))
	return cmd
}

func newEventsTailCmd(g *globalFlags) *cobra.Command {
	var f httpapi.FeedFilter
	var fromStart bool
	var after string
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "Print the change stream live, as events happen",
		Long: `Follows the server's event stream (Server-Sent Events) and prints each event as
it happens: a line each, or with --output json the CloudEvent as JSON, one per line.
Starts at the present end unless --from-start or --after CURSOR is given; the cursor
of the last event printed is written to standard error when the command stops, so a
later tail can continue with --after.`,
		Example: `  backlot events tail --types backlot.entity.upserted.v1,backlot.entity.removed.v1
  backlot events tail --subject component:default/checkout --from-start -o json`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			start := "now"
			switch {
			case after != "":
				start = after
			case fromStart:
				start = ""
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			enc := json.NewEncoder(os.Stdout)
			last := start
			err := g.client().StreamEvents(ctx, start, f, func(cursor string, ev event.Envelope) error {
				last = cursor
				if g.json() {
					return enc.Encode(ev)
				}
				who := ev.Actor
				if ev.Commit != "" {
					who += " @" + short(ev.Commit)
				}
				_, err := fmt.Printf("%s  %-40s %-45s %s\n", ev.Time.Local().Format(time.TimeOnly), ev.Type, ev.Subject, who)
				return err
			})
			fmt.Fprintf(os.Stderr, "cursor: %s\n", last)
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&f.Types, "types", nil, "only these event types (comma separated or repeated)")
	fl.StringVar(&f.Subject, "subject", "", "only events about this entity ref")
	fl.BoolVar(&fromStart, "from-start", false, "start at the beginning of the log")
	fl.StringVar(&after, "after", "", "continue after this cursor")
	return cmd
}
