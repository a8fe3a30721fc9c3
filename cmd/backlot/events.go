package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/client"
)

func newEventsCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "events", Short: "The catalog's change stream"}
	cmd.AddCommand(newEventsTailCmd(g), newEventsSubscriptionsCmd(g))
	return cmd
}

func newEventsTailCmd(g *globalFlags) *cobra.Command {
	var f client.FeedFilter
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
		Example: `  backlot events tail --type backlot.entity.upserted.v1,backlot.entity.removed.v1
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
	fl.StringSliceVar(&f.Types, "type", nil, "only events of these types, in full (backlot.entity.upserted.v1; comma separated or repeated)")
	fl.StringSliceVar(&f.Types, "types", nil, "")
	fl.MarkDeprecated("types", "use --type")
	fl.StringVar(&f.Subject, "subject", "", "only events about this entity ref")
	fl.BoolVar(&fromStart, "from-start", false, "start at the beginning of the log")
	fl.StringVar(&after, "after", "", "continue after this cursor")
	return cmd
}

func newEventsSubscriptionsCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "subscriptions", Short: "Webhook subscriptions: create, list, delete, dead letters, replay"}
	var in client.SubscriptionInput
	create := &cobra.Command{
		Use:   "create --endpoint URL --secret SECRET [--filter CEL]",
		Short: "Subscribe a URL to the events a CEL filter admits (from now on)",
		Example: `  backlot events subscriptions create --endpoint https://hooks.example/backlot --secret "$HOOK_SECRET" \
    --filter 'event.type == "backlot.entity.upserted.v1" && event.data.entity.spec.owner == "team-a"'`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in.URL == "" {
				return fmt.Errorf("--endpoint URL is required: where the events are POSTed (--url is the Backlot server's)")
			}
			sub, err := g.client().CreateSubscription(cmd.Context(), in)
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(os.Stdout, sub)
			}
			fmt.Printf("subscription %s delivers to %s\n", sub.ID, sub.URL)
			return nil
		},
	}
	create.Flags().StringVar(&in.URL, "endpoint", "", "the endpoint events are POSTed to (--url stays the Backlot server's URL)")
	create.Flags().StringVar(&in.Secret, "secret", "", "the HMAC key of the Backlot-Signature header (at least 16 characters)")
	create.Flags().StringVar(&in.Filter, "filter", "", "CEL expression over event (type, subject, actor, data, …); empty admits every event")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the subscriptions",
		RunE: func(cmd *cobra.Command, _ []string) error {
			subs, err := g.client().Subscriptions(cmd.Context())
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(os.Stdout, subs)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tURL\tCURSOR\tFILTER")
			for _, s := range subs {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", s.ID, s.URL, s.Cursor, s.Filter)
			}
			return tw.Flush()
		},
	}
	del := &cobra.Command{
		Use:  "delete ID",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.client().DeleteSubscription(cmd.Context(), args[0])
		},
		Short: "Stop and forget a subscription",
	}
	dead := &cobra.Command{
		Use:   "dead-letters ID",
		Short: "List the events a subscription gave up delivering",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ds, err := g.client().DeadLetters(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(os.Stdout, ds)
			}
			for _, d := range ds {
				fmt.Printf("%s  %s  %s\n", d.At.Format(time.RFC3339), d.EventID, d.Reason)
			}
			return nil
		},
	}
	replay := &cobra.Command{
		Use:   "replay ID EVENT_ID",
		Short: "Deliver a dead letter again; it is removed once the target accepts it",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.client().ReplayDeadLetter(cmd.Context(), args[0], args[1])
		},
	}
	cmd.AddCommand(create, list, del, dead, replay)
	return cmd
}
