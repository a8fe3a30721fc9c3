package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/client"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
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
	var until, out string
	cmd := &cobra.Command{
		Use:   "replay --until TIME --out DIR",
		Short: "Replay the log up to an instant into a fresh read model and write every entity as YAML",
		Long: `Reads the server's event log up to --until (an instant: now, -2h, a date or an RFC
3339 time; events at or after
it are left out), folds it into a fresh catalog read model in a temporary folder, and
writes the catalog as it was then to --out: one YAML file per entity, under
KIND/NAMESPACE/NAME.yaml. Prints the replay rate.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			at, err := parseInstant(until, time.Now().UTC())
			if err != nil {
				return fmt.Errorf("--until: %w", err)
			}
			if out == "" {
				return fmt.Errorf("--out DIR is required")
			}
			tmp, err := os.MkdirTemp("", "backlot-replay-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			store, err := sqlitecatalog.Open(filepath.Join(tmp, "catalog.db"), sqlitecatalog.Options{})
			if err != nil {
				return err
			}
			defer store.Close()
			ctx := cmd.Context()
			start := time.Now()
			// A fresh read model no one reads before the end: fold without its
			// secondary indexes and build them once, as a rebuild does.
			if err := store.BeginReplay(ctx); err != nil {
				return err
			}
			var batch []event.Envelope
			flush := func() error {
				if len(batch) == 0 {
					return nil
				}
				err := store.Apply(ctx, batch)
				batch = batch[:0]
				return err
			}
			var pos int64
			err = readLog(ctx, g.client(), at, func(it client.AuditEvent) error {
				// Positions of the fresh read model: the order the events come in.
				pos++
				ev := it.Event
				ev.Position, ev.Partition = pos, 0
				batch = append(batch, ev)
				if len(batch) == 5000 {
					return flush()
				}
				return nil
			}, func(n int) { fmt.Fprintf(os.Stderr, "\rreplayed %d events", n) })
			if err == nil {
				err = flush()
			}
			if err == nil {
				err = store.EndBulk(ctx)
			}
			fmt.Fprintln(os.Stderr)
			if err != nil {
				return err
			}
			secs := time.Since(start).Seconds()
			n, err := writeYAML(ctx, store, out)
			if err != nil {
				return err
			}
			fmt.Printf("replayed %d events up to %s in %.2fs (%.0f events/s); wrote %d entities to %s\n",
				pos, at.Format(time.RFC3339), secs, float64(pos)/max(secs, 1e-9), n, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&until, "until", "", "the instant to replay up to: "+instantHelp)
	cmd.Flags().StringVar(&out, "out", "", "folder to write the entities to")
	return cmd
}

// writeYAML writes every entity of r as KIND/NAMESPACE/NAME.yaml under dir.
func writeYAML(ctx context.Context, r catalogstore.Reader, dir string) (int, error) {
	n := 0
	var after *catalogstore.Keyset
	for {
		page, err := r.Query(ctx, catalogstore.PageQuery{Limit: 500, After: after})
		if err != nil {
			return n, err
		}
		for _, v := range page.Items {
			raw, err := json.Marshal(v)
			if err != nil {
				return n, err
			}
			var doc map[string]any
			if err := json.Unmarshal(raw, &doc); err != nil {
				return n, err
			}
			kind, ns, name, _ := splitKey(v.Key)
			path := filepath.Join(dir, kind, ns, name+".yaml")
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return n, err
			}
			b, err := yaml.Marshal(doc)
			if err != nil {
				return n, err
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				return n, err
			}
			n++
		}
		if !page.HasNext {
			return n, nil
		}
		after = page.Last
	}
}

// splitKey splits kind:namespace/name.
func splitKey(key string) (kind, ns, name string, ok bool) {
	kind, rest, ok1 := strings.Cut(key, ":")
	ns, name, ok2 := strings.Cut(rest, "/")
	return kind, ns, name, ok1 && ok2
}
