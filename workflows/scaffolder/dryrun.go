package scaffolder

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// File is one file of a dry run's workspace, as Backstage's dry-run API
// answers it.
type File struct {
	Path          string `json:"path"`
	Base64Content string `json:"base64Content"`
	Executable    bool   `json:"executable"`
}

// DryRunResult is a dry run's answer: the log, the workspace's files, the
// template's output and each step's status.
type DryRunResult struct {
	Log               []LogLine      `json:"log"`
	DirectoryContents []File         `json:"directoryContents"`
	Output            map[string]any `json:"output"`
	Steps             []StepState    `json:"steps"`
}

// CheckActions reports the first step whose action Backlot does not have,
// naming the step.
func CheckActions(t *Template) error {
	for _, s := range t.Steps {
		if _, ok := ActionByID(s.Action); !ok {
			return &TemplateError{Template: t.Ref, Field: "steps." + s.ID + ".action", Problem: fmt.Sprintf("no action %q (GET /api/scaffolder/v2/actions lists them)", s.Action)}
		}
	}
	return nil
}

// DryRun runs a template into a throw-away workspace, in this process and
// without Temporal: the fetch and fs actions run as they do for real, the
// publish and catalog:register actions only say what they would do, waits
// and approvals pass at once. Nothing outside the workspace changes, and
// the fetch actions read only inside the template's folder. Secret values
// are masked in the log, the outputs and the error.
func (a *Activities) DryRun(ctx context.Context, info TemplateInfo, params map[string]any, user UserInfo, secrets Secrets) (DryRunResult, error) {
	tmpl, err := FromEntity(info.Ref, info.Body)
	if err != nil {
		return DryRunResult{}, err
	}
	if err := a.Check(tmpl); err != nil {
		return DryRunResult{}, err
	}
	values, err := tmpl.Parameters(params)
	if err != nil {
		return DryRunResult{}, err
	}
	work, err := os.MkdirTemp("", "backlot-dry-run-")
	if err != nil {
		return DryRunResult{}, err
	}
	defer os.RemoveAll(work)
	dry := *a
	dry.WorkDir = work
	const task = "dry-run"
	// The preview masks secrets as a real task's log, outputs and errors do.
	m := NewMasker(secrets)
	res := DryRunResult{Output: map[string]any{}}
	logf := func(step, status, format string, args ...any) {
		res.Log = append(res.Log, LogLine{CreatedAt: time.Now().UTC(), StepID: step, Status: status, Message: fmt.Sprintf(format, args...)})
	}
	steps := map[string]any{}
	vars := map[string]any{"parameters": values, "user": userVars(user), "steps": steps,
		"context": map[string]any{"task": map[string]any{"id": task}}}
	for i := range tmpl.Steps {
		s := &tmpl.Steps[i]
		state := StepState{ID: s.ID, Name: s.Name, Action: s.Action, Status: StatusSkipped}
		on, err := s.Enabled(vars)
		if err != nil {
			return res, err
		}
		if !on {
			logf(s.ID, StatusSkipped, "Skipping step %s: its if is false", s.ID)
			res.Steps = append(res.Steps, state)
			continue
		}
		items, err := s.Iterations(vars)
		if err != nil {
			return res, err
		}
		logf(s.ID, StatusProcessing, "Beginning step %s", stepTitle(s))
		act, _ := a.lookup(s.Action)
		var out map[string]any
		run := func(vars map[string]any) error {
			if act.InWorkflow {
				logf(s.ID, StatusProcessing, "Dry run: %s passes at once", s.Action)
				if s.Action == ActionApproval {
					out = map[string]any{"approved": true, "by": user.Ref, "comment": "dry run"}
				}
				return nil
			}
			r, err := dry.prepare(ActionInput{Task: task, StepID: s.ID, Action: s.Action, Template: info, User: user, Input: s.Input, Vars: vars}, secrets)
			if err != nil {
				return m.Error(err)
			}
			fn := act.Run
			if act.DryRun != nil {
				fn = act.DryRun
			}
			err = fn(ctx, &dry, r)
			for _, l := range r.Result.Log {
				logf(s.ID, StatusProcessing, "%s", m.String(l))
			}
			out = m.Map(r.Result.Output)
			return m.Error(err)
		}
		if items == nil {
			err = run(vars)
		} else {
			for _, each := range items {
				loop := copyVars(vars)
				loop["each"] = each
				if err = run(loop); err != nil {
					break
				}
			}
		}
		if err != nil {
			state.Status = StatusFailed
			res.Steps = append(res.Steps, state)
			logf(s.ID, StatusFailed, "Step %s failed: %s", s.ID, errorText(err))
			return res, fmt.Errorf("step %s: %s", s.ID, errorText(err))
		}
		if out == nil {
			out = map[string]any{}
		}
		steps[s.ID] = map[string]any{"output": out}
		state.Status = StatusCompleted
		res.Steps = append(res.Steps, state)
		logf(s.ID, StatusCompleted, "Finished step %s", stepTitle(s))
	}
	if tmpl.Output != nil {
		o, err := RenderOutput(tmpl.Output, vars)
		if err != nil {
			return res, err
		}
		res.Output = o
	}
	root := filepath.Join(work, task)
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		res.DirectoryContents = append(res.DirectoryContents, File{Path: filepath.ToSlash(rel), Base64Content: base64.StdEncoding.EncodeToString(raw), Executable: fi.Mode()&0o111 != 0})
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		return res, err
	}
	sort.Slice(res.DirectoryContents, func(i, j int) bool { return res.DirectoryContents[i].Path < res.DirectoryContents[j].Path })
	if res.DirectoryContents == nil {
		res.DirectoryContents = []File{}
	}
	return res, nil
}
