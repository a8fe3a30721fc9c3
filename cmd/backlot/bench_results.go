package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"backlot.dev/backlot/internal/bench"
)

// newBenchRecordCmd gathers a run's figures into one results file.
func newBenchRecordCmd() *cobra.Command {
	var out, commit, machine string
	var goFiles, jsonFiles []string
	cmd := &cobra.Command{
		Use:   "record --out FILE [--go FILE]... [--json NAME=FILE]...",
		Short: "Write a run's figures as one JSON results file (bench/results/<date>.json)",
		Long: `Reads the text output of go test -bench (--go, once per file) and the JSON
results of end-to-end benches (--json NAME=FILE, for example
catalog=catalog.json from backlot bench catalog --output json) and writes every
figure they hold, by name, to --out. backlot bench compare reads such files.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("--out FILE is required")
			}
			res := bench.Results{Date: time.Now().UTC().Format("2006-01-02"), Commit: commit, Machine: machine, Figures: map[string]bench.Figure{}}
			for _, p := range goFiles {
				f, err := os.Open(p)
				if err != nil {
					return err
				}
				err = bench.ParseGoBench(f, res.Figures)
				f.Close()
				if err != nil {
					return fmt.Errorf("%s: %w", p, err)
				}
			}
			for _, nj := range jsonFiles {
				name, p, ok := strings.Cut(nj, "=")
				if !ok {
					return fmt.Errorf("--json %q: want NAME=FILE", nj)
				}
				raw, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				if err := bench.AddJSON(name, raw, res.Figures); err != nil {
					return err
				}
			}
			if len(res.Figures) == 0 {
				return fmt.Errorf("no figures: name a --go or --json file with results")
			}
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			f, err := os.Create(out)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := printJSON(f, res); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "recorded %d figures in %s\n", len(res.Figures), out)
			return f.Close()
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "results file to write")
	f.StringArrayVar(&goFiles, "go", nil, "text output of go test -bench (repeatable)")
	f.StringArrayVar(&jsonFiles, "json", nil, "NAME=FILE: a bench's JSON result, its figures named NAME.<field> (repeatable)")
	f.StringVar(&commit, "commit", "", "the commit measured")
	f.StringVar(&machine, "machine", "", "where it ran (cores, other load)")
	return cmd
}

// newBenchCompareCmd prints a results file beside the last recorded one.
func newBenchCompareCmd() *cobra.Command {
	var before, dir string
	var tolerance float64
	cmd := &cobra.Command{
		Use:   "compare RESULTS.json",
		Short: "Print each figure of a results file beside the last recorded one",
		Long: `Prints every figure of RESULTS.json (written by backlot bench record) beside the
same figure of --before, by default the newest other file in --dir, with the
change; a change the wrong way (slower, larger, a lower rate) of more than
--tolerance is marked "worse".`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			now, err := bench.ReadResults(args[0])
			if err != nil {
				return err
			}
			if before == "" {
				if before, err = bench.LastRecorded(dir, args[0]); err != nil {
					return err
				}
				if before == "" {
					return fmt.Errorf("no earlier results in %s to compare with", dir)
				}
			}
			old, err := bench.ReadResults(before)
			if err != nil {
				return err
			}
			fmt.Printf("%s (%s) against %s (%s)\n", args[0], now.Date, before, old.Date)
			bench.WriteComparison(os.Stdout, bench.Compare(now, old), tolerance)
			return nil
		},
	}
	cmd.Flags().StringVar(&before, "before", "", "results file to compare with (default: the newest other file in --dir)")
	cmd.Flags().StringVar(&dir, "dir", "bench/results", "folder of recorded results")
	cmd.Flags().Float64Var(&tolerance, "tolerance", 0.1, "a change the wrong way beyond this fraction is marked worse")
	return cmd
}
