package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/audit"
	"backlot.dev/backlot/internal/client"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
)

// readLog pages through the server's raw log, calling each for every event
// (up to until, when set) and progress after every page.
func readLog(ctx context.Context, c *client.Client, until time.Time, each func(client.AuditEvent) error, progress func(n int)) error {
	q := client.EventQuery{Limit: 1000, To: until}
	n := 0
	for {
		page, next, err := c.AuditEvents(ctx, q)
		if err != nil {
			return err
		}
		for _, it := range page {
			if err := each(it); err != nil {
				return err
			}
		}
		n += len(page)
		progress(n)
		if next == "" {
			return nil
		}
		q.After, _ = event.ParsePositions(next)
	}
}

func newAuditExportCmd(g *globalFlags) *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the whole event log as JSON lines: one CloudEvent (with its position) per line",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "jsonl" {
				return fmt.Errorf("--format %q: only jsonl is supported", format)
			}
			var w io.Writer = os.Stdout
			if out != "" && out != "-" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			enc := json.NewEncoder(w)
			start := time.Now()
			err := readLog(cmd.Context(), g.client(), time.Time{}, func(it client.AuditEvent) error { return enc.Encode(it) },
				func(n int) { fmt.Fprintf(os.Stderr, "\rexported %d events", n) })
			fmt.Fprintf(os.Stderr, " in %s\n", time.Since(start).Round(time.Millisecond))
			return err
		},
	}
	cmd.Flags().StringVar(&format, "format", "jsonl", "output format: jsonl")
	cmd.Flags().StringVar(&out, "out", "-", "file to write, - for standard output")
	return cmd
}

func newAuditReplayCmd(g *globalFlags) *cobra.Command {
	var until, out, data, cpuprofile string
	var readers int
	cmd := &cobra.Command{
		Use:   "replay --until TIME --out DIR|FILE.tar|-",
		Short: "Replay the log up to an instant and write every entity as YAML",
		Long: `Reads the server's event log up to --until (an instant: now, -2h, a date or an RFC
3339 time; events at or after
it are left out), folds it into the catalog as it was then (the latest version
of each entity, as the catalog read model would hold it; the bodies wait in
memory, past 256 MiB in a temporary file), and writes that catalog
to --out: one YAML file per entity, under KIND/NAMESPACE/NAME.yaml. A file
that already holds the same YAML is left alone, so replaying into a folder
written before rewrites only what changed (files of entities that are gone
stay). Prints the replay rate.

With --out FILE.tar (or - for standard output) the same files go into a tar
archive instead, in key order, each dated the instant replayed to: two
replays of one log to one instant give the same archive byte for byte, and no
file is created per entity, which is what bounds the rate of a folder (about
50 µs of the kernel's CPU a file). "tar -x" unpacks the folder.

With --data DIR the log is read straight from the data folder of backlot dev
(DIR/events.db, read-only, while the server runs or not) instead of through
the server's API: faster, and what reading the file allows, not the server's
permissions, decides. --readers N reads it on N connections at once (the
events still folded in log order): on an idle machine of several cores the
read, the slowest step before the output, is shared by them, for a little
more CPU; on a busy one it gains nothing.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			at, err := parseInstant(until, time.Now().UTC())
			if err != nil {
				return fmt.Errorf("--until: %w", err)
			}
			if out == "" {
				return fmt.Errorf("--out DIR is required")
			}
			if cpuprofile != "" {
				f, err := os.Create(cpuprofile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			ctx := cmd.Context()
			start := time.Now()
			// The bodies wait in memory up to audit.DefaultHoldLimit,
			// beyond in a temporary file.
			r, err := audit.NewSpillingReplay("")
			if err != nil {
				return err
			}
			defer r.Close()
			progress := func(n int) { fmt.Fprintf(os.Stderr, "\rreplayed %d events", n) }
			if data != "" {
				n := 0
				err = sqlitelog.Stream(ctx, filepath.Join(data, "events.db"), sqlitelog.StreamOptions{Before: at, Lean: true, Readers: readers, SkipData: audit.SkippedTypes(), Reuse: true}, func(evs []event.Envelope) error {
					if err := r.Apply(evs); err != nil {
						return err
					}
					if n += len(evs); n%100_000 < len(evs) {
						progress(n)
					}
					return nil
				})
				progress(n)
			} else {
				err = readLogAhead(ctx, g.client(), at, r.Apply, progress)
			}
			fmt.Fprintln(os.Stderr)
			if err != nil {
				return err
			}
			folded := time.Since(start)
			st, err := writeReplay(ctx, r, out, at)
			if err != nil {
				return err
			}
			total := time.Since(start)
			summary := os.Stdout
			if out == "-" {
				summary = os.Stderr
			}
			fmt.Fprintf(summary, "replayed %d events up to %s in %.2fs (%.0f events/s); wrote %d entities to %s (%d unchanged) in %.2fs (%.0f events/s in all)\n",
				r.Events(), at.Format(time.RFC3339), folded.Seconds(), float64(r.Events())/max(folded.Seconds(), 1e-9),
				st.Files, out, st.Unchanged, (total - folded).Seconds(), float64(r.Events())/max(total.Seconds(), 1e-9))
			return nil
		},
	}
	cmd.Flags().StringVar(&until, "until", "", "the instant to replay up to: "+instantHelp)
	cmd.Flags().StringVar(&out, "out", "", "folder to write the entities to; a FILE.tar, or - for standard output, to write them as a tar archive")
	cmd.Flags().StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile of the replay to this file")
	cmd.Flags().StringVar(&data, "data", "", "read the log from this data folder of backlot dev (its events.db) instead of through the server")
	cmd.Flags().IntVar(&readers, "readers", 1, "with --data: read the log on this many connections at once")
	return cmd
}

// writeReplay writes r's entities to out: a tar archive dated at when out
// is - (standard output) or ends in .tar, else a folder.
func writeReplay(ctx context.Context, r *audit.Replay, out string, at time.Time) (audit.WriteStats, error) {
	switch {
	case out == "-":
		return r.WriteTar(ctx, os.Stdout, at)
	case strings.HasSuffix(out, ".tar"):
		f, err := os.Create(out)
		if err != nil {
			return audit.WriteStats{}, err
		}
		st, err := r.WriteTar(ctx, f, at)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(out)
		}
		return st, err
	}
	return r.WriteYAMLStats(ctx, out)
}

// readLogAhead pages through the server's raw log up to until, as readLog
// does, but asks for the next page while each is handled: each gets every
// page's events in log order, and progress the count after every page.
func readLogAhead(ctx context.Context, c *client.Client, until time.Time, each func([]event.Envelope) error, progress func(n int)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan []event.Envelope, 4)
	fetched := make(chan error, 1)
	go func() {
		defer close(pages)
		var evs []event.Envelope
		fetched <- readLog(ctx, c, until, func(it client.AuditEvent) error {
			evs = append(evs, it.Event)
			return nil
		}, func(int) {
			select {
			case pages <- evs:
			case <-ctx.Done():
			}
			evs = nil
		})
	}()
	n := 0
	for page := range pages {
		if err := each(page); err != nil {
			cancel()
			for range pages {
			}
			return err
		}
		n += len(page)
		progress(n)
	}
	return <-fetched
}
