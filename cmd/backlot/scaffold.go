package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"backlot.dev/backlot/internal/client"
)

func newScaffoldCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "scaffold", Short: "Run software templates: new repositories with code, CI, docs and a catalog entry"}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the templates in the catalog",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ents, err := g.client().Entities(cmd.Context(), []string{"kind=template"}, nil)
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(os.Stdout, ents)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TEMPLATE\tTYPE\tTITLE")
			for _, e := range ents {
				fmt.Fprintf(tw, "template:%s/%s\t%s\t%s\n", str(e, "metadata", "namespace"), str(e, "metadata", "name"), str(e, "spec", "type"), str(e, "metadata", "title"))
			}
			return tw.Flush()
		},
	}
	var sets, secrets []string
	var valuesFile string
	var dryRun, noWait bool
	run := &cobra.Command{
		Use:   "run TEMPLATE [--set name=value]... [--values FILE] [--secret name=value]... [--dry-run]",
		Short: "Run a template and follow its log until it ends",
		Long: `Run a template (template:default/go-service, or its name) with the form's
values given by --set (repeatable; each value takes the type the template's
parameter schema gives it) or a YAML/JSON --values file, and follow the task's
log with the step it is at. Secrets (--secret) are sealed before they reach
Temporal and never reach the event log. It exits non-zero when the task fails.

With --dry-run, TEMPLATE is a template.yaml file: it and the files of its folder
are rendered by the server into a preview, and nothing is published or registered.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := g.client()
			ctx := cmd.Context()
			if dryRun {
				values, err := formValues(valuesFile, sets, nil)
				if err != nil {
					return err
				}
				return runDryRun(ctx, c, os.Stdout, args[0], values, pairs(secrets), g.json())
			}
			ref := args[0]
			if !strings.Contains(ref, ":") {
				ref = "template:default/" + ref
			}
			schema, err := c.ParameterSchema(ctx, ref)
			if err != nil {
				return err
			}
			values, err := formValues(valuesFile, sets, schema.Steps)
			if err != nil {
				return err
			}
			id, err := c.CreateTask(ctx, ref, values, pairs(secrets))
			if err != nil {
				return err
			}
			if noWait {
				if g.json() {
					return printJSON(os.Stdout, map[string]string{"id": id})
				}
				fmt.Println(id)
				return nil
			}
			fmt.Fprintf(os.Stderr, "task %s\n", id)
			return followTask(ctx, c, os.Stdout, id, g.json())
		},
	}
	f := run.Flags()
	f.StringArrayVar(&sets, "set", nil, "a form value, name=value (repeatable)")
	f.StringArrayVar(&secrets, "secret", nil, "a secret, name=value (repeatable)")
	f.StringVar(&valuesFile, "values", "", "a YAML or JSON file of form values")
	f.BoolVar(&dryRun, "dry-run", false, "render TEMPLATE (a template.yaml file) into a preview; change nothing")
	f.BoolVar(&noWait, "no-wait", false, "print the task id and return at once")

	tasks := &cobra.Command{
		Use:   "tasks",
		Short: "List tasks, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ts, err := g.client().Tasks(cmd.Context())
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(os.Stdout, ts)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTEMPLATE\tSTATUS\tCREATED BY\tCREATED")
			for _, t := range ts {
				fmt.Fprintf(tw, "%v\t%s\t%v\t%v\t%v\n", t["id"], str(t, "spec", "templateInfo", "entityRef"), t["status"], t["createdBy"], t["createdAt"])
			}
			return tw.Flush()
		},
	}
	follow := &cobra.Command{
		Use:   "logs TASK",
		Short: "Follow a task's log until it ends",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return followTask(cmd.Context(), g.client(), os.Stdout, args[0], g.json())
		},
	}
	var comment string
	decide := func(use string, approved bool) *cobra.Command {
		c := &cobra.Command{
			Use:   use + " TASK [--comment TEXT]",
			Short: strings.ToUpper(use[:1]) + use[1:] + " the approval step a task waits in",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return g.client().DecideTask(cmd.Context(), args[0], approved, comment)
			},
		}
		c.Flags().StringVar(&comment, "comment", "", "why")
		return c
	}
	cancel := &cobra.Command{
		Use: "cancel TASK", Short: "Cancel a task", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return g.client().CancelTask(cmd.Context(), args[0]) },
	}
	retry := &cobra.Command{
		Use: "retry TASK", Short: "Run a failed task again from the step that failed, and follow it", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := g.client()
			if err := c.RetryTask(cmd.Context(), args[0]); err != nil {
				return err
			}
			return followTask(cmd.Context(), c, os.Stdout, args[0], g.json())
		},
	}
	cmd.AddCommand(list, run, tasks, follow, decide("approve", true), decide("reject", false), cancel, retry)
	return cmd
}

// pairs reads name=value flags.
func pairs(list []string) map[string]string {
	if len(list) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, kv := range list {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out
}

// formValues merges a values file and --set flags; each --set value takes
// the type its property has in the template's schema (a string stays a
// string, a number or boolean is parsed, an object or array is JSON).
func formValues(file string, sets []string, pages []client.ParameterStep) (map[string]any, error) {
	values := map[string]any{}
	if file != "" {
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		if err := yaml.Unmarshal(raw, &values); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	types := map[string]string{}
	for _, p := range pages {
		props, _ := p.Schema["properties"].(map[string]any)
		for name, s := range props {
			if m, ok := s.(map[string]any); ok {
				t, _ := m["type"].(string)
				types[name] = t
			}
		}
	}
	for _, kv := range sets {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--set %q: want name=value", kv)
		}
		switch types[k] {
		case "string":
			values[k] = v
		case "integer", "number":
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, fmt.Errorf("--set %s: %q is not a number", k, v)
			}
			values[k] = n
		case "boolean":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("--set %s: %q is not true or false", k, v)
			}
			values[k] = b
		default:
			var x any
			if json.Unmarshal([]byte(v), &x) == nil {
				values[k] = x
			} else {
				values[k] = v
			}
		}
	}
	return values, nil
}

// followTask prints a task's log as it grows, each line with the step it
// belongs to and how far the task is, then its output; it fails when the
// task did.
func followTask(ctx context.Context, c *client.Client, w io.Writer, id string, asJSON bool) error {
	t, err := c.Task(ctx, id)
	if err != nil {
		return err
	}
	index := map[string]int{}
	for i, s := range t.Steps {
		index[s.ID] = i + 1
	}
	after := 0
	waitingShown := false
	for {
		evs, err := c.TaskEvents(ctx, id, after)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			after = ev.ID
			if ev.Type == "completion" {
				t, err := c.Task(ctx, id)
				if err != nil {
					return err
				}
				return printTaskEnd(w, t, asJSON)
			}
			if asJSON {
				continue
			}
			prefix := ""
			if n := index[ev.Body.StepID]; n > 0 {
				prefix = fmt.Sprintf("[%d/%d %s] ", n, len(t.Steps), ev.Body.StepID)
			}
			fmt.Fprintf(w, "%s%s\n", prefix, ev.Body.Message)
		}
		if len(evs) == 0 && !waitingShown && !asJSON {
			if cur, err := c.Task(ctx, id); err == nil && cur.Waiting != nil {
				fmt.Fprintf(w, "waiting for approval since %s: backlot scaffold approve %s (or reject)\n", cur.Waiting.Since.Format(time.RFC3339), id)
				waitingShown = true
			}
		}
	}
}

func printTaskEnd(w io.Writer, t client.Task, asJSON bool) error {
	if asJSON {
		if err := printJSON(w, t); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(w, "task %s %s\n", t.ID, t.Status)
		if links, ok := t.Output["links"].([]any); ok {
			for _, l := range links {
				m, _ := l.(map[string]any)
				target := m["url"]
				if target == nil {
					target = m["entityRef"]
				}
				fmt.Fprintf(w, "  %v: %v\n", m["title"], target)
			}
		}
		if len(t.Entities) > 0 {
			fmt.Fprintf(w, "  registered: %s\n", strings.Join(t.Entities, ", "))
		}
	}
	if t.Status != client.TaskCompleted {
		msg := t.Status
		if t.Error != nil {
			msg = fmt.Sprintf("%s at step %s: %s (backlot scaffold retry %s runs it again from there)", t.Status, t.Error.Step, t.Error.Message, t.ID)
		}
		return fmt.Errorf("task %s", msg)
	}
	return nil
}

// runDryRun sends a template file and the files of its folder to the
// server's dry run and prints the log and the files it would write.
func runDryRun(ctx context.Context, c *client.Client, w io.Writer, file string, values map[string]any, secrets map[string]string, asJSON bool) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var body any
	if err := yaml.Unmarshal(raw, &body); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	tj, err := json.Marshal(body)
	if err != nil {
		return err
	}
	dir := filepath.Dir(file)
	var files []client.File
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, _ := d.Info()
		files = append(files, client.File{Path: filepath.ToSlash(rel), Base64Content: base64.StdEncoding.EncodeToString(data), Executable: info.Mode()&0o111 != 0})
		return nil
	})
	if err != nil {
		return err
	}
	res, err := c.DryRun(ctx, tj, values, secrets, files)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(w, res)
	}
	for _, l := range res.Log {
		fmt.Fprintf(w, "[%s] %s\n", l.StepID, l.Message)
	}
	sort.Slice(res.DirectoryContents, func(i, j int) bool { return res.DirectoryContents[i].Path < res.DirectoryContents[j].Path })
	fmt.Fprintf(w, "would write %d files:\n", len(res.DirectoryContents))
	for _, f := range res.DirectoryContents {
		n := base64.StdEncoding.DecodedLen(len(f.Base64Content))
		fmt.Fprintf(w, "  %s (%d bytes)\n", f.Path, n)
	}
	return nil
}
