package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/client"
)

func (g *globalFlags) client() *client.Client {
	return client.New(g.url, &http.Client{Timeout: 5 * time.Minute}).WithToken(g.bearer())
}

func (g *globalFlags) json() bool { return g.output == "json" }

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func str(m map[string]any, path ...string) string {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = mm[p]
	}
	s, _ := cur.(string)
	return s
}

func refOf(e map[string]any) string {
	r, _ := catalog.RefFromBody(e)
	return r.String()
}

func newCatalogCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "catalog", Short: "Read and change the catalog of a running server"}
	cmd.AddCommand(catalogListCmd(g), catalogGetCmd(g), catalogLocationsCmd(g), catalogRegisterCmd(g),
		catalogUnregisterCmd(g), catalogRefreshCmd(g), catalogValidateCmd(g))
	return cmd
}

// catalogListCmd lists entities, filtered as Backstage filters them.
func catalogListCmd(g *globalFlags) *cobra.Command {
	var kind string
	var filters []string
	list := &cobra.Command{
		Use:   "list",
		Short: "List entities (Backstage filters: kind=component,spec.type=service; repeat --filter for OR)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			fs := filters
			if kind != "" {
				if len(fs) == 0 {
					fs = []string{"kind=" + kind}
				} else {
					for i := range fs {
						fs[i] += ",kind=" + kind
					}
				}
			}
			ents, err := g.client().Entities(cmd.Context(), fs, nil)
			if err != nil {
				return err
			}
			return printEntities(g, ents, "")
		},
	}
	list.Flags().StringVar(&kind, "kind", "", "only this kind")
	list.Flags().StringArrayVar(&filters, "filter", nil, "Backstage filter (repeatable: OR)")
	return list
}

// catalogGetCmd shows one entity with its relations and processing errors.
func catalogGetCmd(g *globalFlags) *cobra.Command {
	get := &cobra.Command{
		Use:   "get REF",
		Short: "Show one entity with its relations and processing errors",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.client().EntityByRef(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if e == nil {
				return fmt.Errorf("entity %s not found", args[0])
			}
			if g.json() {
				return printJSON(os.Stdout, e)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "ref\t%s\n", refOf(e))
			for _, f := range [][]string{{"metadata", "uid"}, {"metadata", "title"}, {"metadata", "description"}, {"spec", "type"}, {"spec", "lifecycle"}, {"spec", "owner"}, {"spec", "system"}} {
				if v := str(e, f...); v != "" {
					fmt.Fprintf(tw, "%s\t%s\n", strings.Join(f, "."), v)
				}
			}
			if v := str(e, "metadata", "annotations", catalog.AnnotationManagedByLocation); v != "" {
				fmt.Fprintf(tw, "location\t%s\n", v)
			}
			if rels, ok := e["relations"].([]any); ok {
				for _, r := range rels {
					rm, _ := r.(map[string]any)
					fmt.Fprintf(tw, "relation\t%s %s\n", str(rm, "type"), str(rm, "targetRef"))
				}
			}
			if st, ok := e["status"].(map[string]any); ok {
				items, _ := st["items"].([]any)
				for _, it := range items {
					im, _ := it.(map[string]any)
					fmt.Fprintf(tw, "error\t%s\n", str(im, "message"))
				}
			}
			return tw.Flush()
		},
	}
	return get
}

// catalogLocationsCmd lists the registered locations with their processing errors.
func catalogLocationsCmd(g *globalFlags) *cobra.Command {
	locations := &cobra.Command{
		Use:   "locations",
		Short: "List registered locations",
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := g.client()
			locs, err := c.Locations(cmd.Context())
			if err != nil {
				return err
			}
			infos := make([]*client.LocationInfo, len(locs))
			for i, l := range locs {
				if infos[i], err = c.Location(cmd.Context(), l.ID); err != nil {
					return err
				}
			}
			if g.json() {
				return printJSON(os.Stdout, infos)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTYPE\tTARGET\tERRORS")
			for _, l := range infos {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", l.ID, l.Type, l.Target, len(l.Errors))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, l := range infos {
				for _, pe := range l.Errors {
					fmt.Printf("%s: %s\n", l.ID, describeProblem(pe))
				}
			}
			return nil
		},
	}
	return locations
}

// catalogRegisterCmd registers a file, glob or git URL location and shows what it yields and the errors it found.
func catalogRegisterCmd(g *globalFlags) *cobra.Command {
	var locType string
	var dryRun bool
	register := &cobra.Command{
		Use:   "register TARGET",
		Short: "Register a location: a file or glob (--type file) or a git URL (--type url)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			target := args[0]
			if locType == "" {
				locType = "url"
				if !strings.Contains(target, "://") {
					locType = "file"
				}
			}
			if locType == "file" && !filepath.IsAbs(target) {
				abs, err := filepath.Abs(target)
				if err != nil {
					return err
				}
				target = abs
			}
			c := g.client()
			res, err := c.AddLocation(cmd.Context(), locType, target, dryRun)
			if err != nil {
				return err
			}
			loc, _ := res["location"].(map[string]any)
			// The errors the location's first read found (a dry run's are
			// in its refusal).
			var problems []event.ProcessingError
			if !dryRun && str(loc, "id") != "" {
				info, err := c.Location(cmd.Context(), str(loc, "id"))
				if err != nil {
					return err
				}
				problems = info.Errors
			}
			if g.json() {
				if len(problems) > 0 {
					res["errors"] = problems
				}
				if err := printJSON(os.Stdout, res); err != nil {
					return err
				}
			} else {
				ents, _ := res["entities"].([]any)
				verb := "registered"
				if dryRun {
					verb = "would register"
				}
				fmt.Printf("%s location %s (%s:%s) with %d entities\n", verb, str(loc, "id"), str(loc, "type"), str(loc, "target"), len(ents))
				for _, e := range ents {
					if em, ok := e.(map[string]any); ok {
						fmt.Println("  " + refOf(em))
					}
				}
				for _, pe := range problems {
					fmt.Fprintln(os.Stderr, "  error: "+describeProblem(pe))
				}
			}
			if len(problems) > 0 {
				return fmt.Errorf("location %s has %d processing errors: fix the file, then `backlot catalog refresh %s`", str(loc, "id"), len(problems), str(loc, "id"))
			}
			return nil
		},
	}
	register.Flags().StringVar(&locType, "type", "", "file or url (default: url for URLs, else file)")
	register.Flags().BoolVar(&dryRun, "dry-run", false, "read the location without registering it")
	return register
}

// catalogUnregisterCmd removes a location and the entities it provides.
func catalogUnregisterCmd(g *globalFlags) *cobra.Command {
	unregister := &cobra.Command{
		Use:   "unregister LOCATION-ID",
		Short: "Remove a location and the entities it provides",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.client().RemoveLocation(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Printf("removed location %s\n", args[0])
			return nil
		},
	}
	return unregister
}

// catalogRefreshCmd re-reads a location (by an entity it provides or by its id) and shows its errors.
func catalogRefreshCmd(g *globalFlags) *cobra.Command {
	refresh := &cobra.Command{
		Use:   "refresh REF|LOCATION-ID",
		Short: "Re-read a location: the one that provides an entity, or the one with the id; show its errors",
		Long: `Re-read a location now, rather than at the next periodic refresh: the location
that provides the entity REF (kind:namespace/name), or the location with the id
that catalog register and catalog locations print (which works for a location
whose every entity is broken). Prints the location's processing errors after the
read and exits 1 when it has any.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := g.client()
			ref := args[0]
			var locID string
			if !strings.Contains(ref, ":") {
				// A location id: refresh its generated Location entity. A
				// name without a kind that is no location's id stays an
				// entity ref (a component's).
				info, err := c.Location(cmd.Context(), ref)
				switch {
				case err == nil:
					locID, ref = info.ID, catalog.GeneratedLocationRef(info.Type, info.Target).String()
				case !client.IsNotFound(err):
					return err
				}
			}
			if err := c.Refresh(cmd.Context(), ref); err != nil {
				return err
			}
			if locID == "" {
				loc, err := c.LocationByEntity(cmd.Context(), ref)
				if err != nil {
					// Refreshed; only its location's errors cannot be shown.
					fmt.Printf("refreshed %s\n", ref)
					return nil
				}
				locID = loc.ID
			}
			info, err := c.Location(cmd.Context(), locID)
			if err != nil {
				return err
			}
			fmt.Printf("refreshed location %s (%s:%s)\n", info.ID, info.Type, info.Target)
			for _, pe := range info.Errors {
				fmt.Fprintln(os.Stderr, "  error: "+describeProblem(pe))
			}
			if len(info.Errors) > 0 {
				return fmt.Errorf("location %s has %d processing errors", info.ID, len(info.Errors))
			}
			return nil
		},
	}
	return refresh
}

// catalogValidateCmd validates descriptor files document by document against the server's rules.
func catalogValidateCmd(g *globalFlags) *cobra.Command {
	validate := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Validate descriptor files against the server's rules, document by document",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			type result struct {
				File     string   `json:"file"`
				Document int      `json:"document"`
				Entity   string   `json:"entity,omitempty"`
				Valid    bool     `json:"valid"`
				Errors   []string `json:"errors,omitempty"`
			}
			var results []result
			bad := 0
			for _, f := range args {
				data, err := os.ReadFile(f)
				if err != nil {
					return err
				}
				docs, err := catalog.ParseDocuments(f, data, catalog.Limits{})
				if err != nil {
					results = append(results, result{File: f, Document: -1, Errors: []string{err.Error()}})
					bad++
					continue
				}
				abs, _ := filepath.Abs(f)
				for _, d := range docs {
					r := result{File: f, Document: d.Index}
					if d.Err != nil {
						r.Errors = []string{d.Err.Error()}
					} else {
						r.Entity = refOf(d.Body)
						ok, errs, err := g.client().Validate(cmd.Context(), d.Body, "file:"+abs)
						if err != nil {
							return err
						}
						r.Valid, r.Errors = ok, errs
					}
					if !r.Valid {
						bad++
					}
					results = append(results, r)
				}
			}
			if g.json() {
				if err := printJSON(os.Stdout, results); err != nil {
					return err
				}
			} else {
				for _, r := range results {
					if r.Valid {
						fmt.Printf("ok    %s document %d %s\n", r.File, r.Document, r.Entity)
						continue
					}
					fmt.Printf("FAIL  %s document %d %s\n", r.File, r.Document, r.Entity)
					for _, e := range r.Errors {
						fmt.Printf("      %s\n", e)
					}
				}
			}
			if bad > 0 {
				return fmt.Errorf("%d of %d documents are invalid", bad, len(results))
			}
			return nil
		},
	}
	return validate
}

// describeProblem says where a processing error is (file, document,
// entity, field) and what it is.
func describeProblem(p event.ProcessingError) string {
	where := p.File
	if p.Document >= 0 {
		where += fmt.Sprintf(" document %d", p.Document+1)
	}
	if p.Entity != "" {
		where += " entity " + p.Entity
	}
	if p.Field != "" {
		where += " field " + p.Field
	}
	return where + ": " + p.Message
}

// printEntities prints entities sorted by ref: a table, or JSON with -o json;
// the count goes to standard error, with note after it.
func printEntities(g *globalFlags, ents []map[string]any, note string) error {
	sort.Slice(ents, func(i, j int) bool { return refOf(ents[i]) < refOf(ents[j]) })
	if g.json() {
		return printJSON(os.Stdout, ents)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REF\tTYPE\tLIFECYCLE\tOWNER\tDESCRIPTION")
	for _, e := range ents {
		desc := str(e, "metadata", "description")
		if len(desc) > 60 {
			desc = desc[:57] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", refOf(e), str(e, "spec", "type"), str(e, "spec", "lifecycle"), str(e, "spec", "owner"), desc)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%d entities%s\n", len(ents), note)
	return nil
}
