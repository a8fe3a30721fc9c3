package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"backlot.dev/backlot/internal/client"
	"backlot.dev/backlot/policies"
)

func newPoliciesCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "policies", Short: "Work with badge policies (CEL checks over entities, relations and facts)"}

	var ref, factsFile, nowText string
	test := &cobra.Command{
		Use:   "test FILE --entity REF [--facts FILE.json]",
		Short: "Evaluate the policies of FILE on one entity of the server, without saving, and explain each check",
		Long: `Evaluate the policies of FILE on one entity of the server, without saving, and
explain each check: PASS, FAIL or ERROR, its level and message, and the level
reached. Facts are those the server holds about the entity, or, with --facts,
a JSON object of sources, each an object of facts ({"ci": {"coverage": 84}});
unless they have a "catalog" source, the command fills
facts.catalog.deprecatedRefs with the entity's dependsOn targets whose
lifecycle is deprecated. With -o json it prints the result (an array of
results when FILE holds several policies).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if ref == "" {
				return fmt.Errorf("--entity REF is required")
			}
			now := time.Now().UTC()
			if nowText != "" {
				t, err := parseInstant(nowText, now)
				if err != nil {
					return fmt.Errorf("--now: %w", err)
				}
				now = t
			}
			return runPoliciesTest(cmd.Context(), g, os.Stdout, os.Stderr, args[0], ref, factsFile, now)
		},
	}
	test.Flags().StringVar(&ref, "entity", "", "the entity to rate (kind:namespace/name)")
	test.Flags().StringVar(&factsFile, "facts", "", "a JSON file of facts by source: {\"ci\": {\"coverage\": 84}}")
	test.Flags().StringVar(&nowText, "now", "", "the instant of the evaluation: "+instantHelp+" (default: now)")
	cmd.AddCommand(test)
	addBadgeCommands(cmd, g)
	return cmd
}

// runPoliciesTest loads the policies of file, compiles them (a broken check
// becomes an ERROR, the others still run), fetches the entity and rates it.
func runPoliciesTest(ctx context.Context, g *globalFlags, stdout, stderr io.Writer, file, ref, factsFile string, now time.Time) error {
	ps, err := policies.LoadPolicies(file)
	if len(ps) == 0 {
		return err
	}
	if err != nil {
		fmt.Fprintln(stderr, "backlot: skipping:", err)
	}
	c := g.client()
	facts := map[string]map[string]any{}
	// The facts the server holds about the entity, unless --facts says otherwise.
	if stored, err := c.EntityFacts(ctx, ref); err == nil {
		for _, f := range stored {
			var m map[string]any
			if json.Unmarshal(f.Facts, &m) == nil {
				facts[f.Source] = m
			}
		}
	}
	if factsFile != "" {
		facts = map[string]map[string]any{}
		data, err := os.ReadFile(factsFile)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(data, &facts); err != nil {
			return fmt.Errorf("%s: want an object of sources, each an object of facts: %w", factsFile, err)
		}
	}
	e, err := c.EntityByRef(ctx, ref)
	if client.IsNotFound(err) || (err == nil && e == nil) {
		return fmt.Errorf("entity %s not found", ref)
	}
	if err != nil {
		return err
	}
	in := policies.Input{Entity: e, Relations: relationsOfEntity(e), Facts: facts, Now: now}
	if _, ok := facts["catalog"]; !ok {
		deprecated, err := deprecatedDependencies(ctx, c, in.Relations)
		if err != nil {
			return err
		}
		facts["catalog"] = map[string]any{"deprecatedRefs": deprecated}
	}
	var results []policies.Result
	for _, p := range ps {
		cp, err := policies.Compile(p)
		if err != nil {
			fmt.Fprintln(stderr, "backlot:", err)
		}
		results = append(results, cp.Evaluate(in))
	}
	if g.json() {
		var err error
		if len(results) == 1 {
			err = printJSON(stdout, results[0])
		} else {
			err = printJSON(stdout, results)
		}
		if err != nil {
			return err
		}
		return failedChecks(refOf(e), results)
	}
	for i, r := range results {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		if err := explainResult(stdout, ps[i], refOf(e), r); err != nil {
			return err
		}
	}
	return failedChecks(refOf(e), results)
}

// failedChecks is the error of a test whose policies found a check that
// failed or could not be evaluated on the entity; nil when every check of
// every policy that applies passed.
func failedChecks(ref string, results []policies.Result) error {
	failed, total := 0, 0
	for _, r := range results {
		if !r.Applies {
			continue
		}
		if r.Error != "" {
			failed++
		}
		for _, c := range r.Checks {
			total++
			if !c.Passed {
				failed++
			}
		}
	}
	if failed == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d checks did not pass on %s", failed, total, ref)
}

// relationsOfEntity reads the relations the server attaches to an entity.
func relationsOfEntity(e map[string]any) []policies.Relation {
	var out []policies.Relation
	rels, _ := e["relations"].([]any)
	for _, r := range rels {
		rm, _ := r.(map[string]any)
		out = append(out, policies.Relation{Type: str(rm, "type"), TargetRef: str(rm, "targetRef")})
	}
	return out
}

// deprecatedDependencies returns the dependsOn targets whose lifecycle is
// deprecated, as the built-in catalog fact collector would report them.
func deprecatedDependencies(ctx context.Context, c *client.Client, rels []policies.Relation) ([]any, error) {
	var refs []string
	for _, r := range rels {
		if r.Type == "dependsOn" {
			refs = append(refs, r.TargetRef)
		}
	}
	out := []any{}
	if len(refs) == 0 {
		return out, nil
	}
	ents, err := c.EntitiesByRefs(ctx, refs, nil)
	if err != nil {
		return nil, fmt.Errorf("reading the dependencies: %w", err)
	}
	for i, t := range ents {
		if t != nil && str(t, "spec", "lifecycle") == "deprecated" {
			out = append(out, refs[i])
		}
	}
	return out, nil
}

// explainResult prints one policy's verdict: the level reached and every
// check with its outcome.
func explainResult(w io.Writer, p *policies.Policy, ref string, r policies.Result) error {
	title := p.Metadata.Name
	if p.Metadata.Title != "" {
		title += " (" + p.Metadata.Title + ")"
	}
	fmt.Fprintf(w, "policy %s on %s\n", title, ref)
	if r.Error != "" {
		fmt.Fprintf(w, "ERROR %s\n", r.Error)
	}
	if !r.Applies {
		fmt.Fprintln(w, "does not apply: the selector does not choose this entity")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESULT\tLEVEL\tCHECK\tMESSAGE")
	for _, c := range r.Checks {
		outcome := "PASS"
		switch {
		case c.Error != "":
			outcome = "ERROR"
		case !c.Passed:
			outcome = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", outcome, c.Level, c.ID, c.Message)
		if c.Error != "" {
			fmt.Fprintf(tw, "\t\t\t%s\n", strings.ReplaceAll(c.Error, "\n", " "))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	level := r.Level
	if level == "" {
		level = "none (lowest: " + p.Spec.Levels[0] + ")"
	}
	_, err := fmt.Fprintf(w, "level: %s\n", level)
	return err
}
