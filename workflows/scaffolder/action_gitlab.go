package scaffolder

import (
	"context"
	"strings"

	"backlot.dev/backlot/workflows/githost"
)

// gitLab is the GitLab host of an action, with input.token when given.
func (a *Activities) gitLab(r *Run) (*githost.GitLab, error) {
	tok, err := r.String("token")
	if err != nil {
		return nil, err
	}
	if a.GitLab == nil {
		return nil, inputError("steps.%s: %s: no GitLab host is configured (set BACKLOT_GITLAB_TOKEN and BACKLOT_GITLAB_URL)", r.In.StepID, r.In.Action)
	}
	return a.GitLab.WithToken(tok), nil
}

// publishGitLabMergeRequest is publish:gitlab:merge-request: the workspace
// (sourcePath) over the target branch (at targetPath) as one commit on
// branchName, and a merge request of it. A retry finds the branch holding
// the same files and the open merge request.
func publishGitLabMergeRequest(ctx context.Context, a *Activities, r *Run) error {
	_, owner, name, err := repoLocation(r)
	if err != nil {
		return err
	}
	var m githost.MergeRequest
	if m.Source, err = r.Required("branchName"); err != nil {
		return err
	}
	if m.Title, err = r.Required("title"); err != nil {
		return err
	}
	if m.Description, err = r.String("description"); err != nil {
		return err
	}
	if m.Target, err = r.String("targetBranchName"); err != nil {
		return err
	}
	if m.RemoveSourceBranch, err = r.Bool("removeSourceBranch", false); err != nil {
		return err
	}
	if m.Assignee, err = r.String("assignee"); err != nil {
		return err
	}
	if m.Reviewers, err = r.Strings("reviewers"); err != nil {
		return err
	}
	labels, err := r.Strings("labels")
	if err != nil {
		if s, serr := r.String("labels"); serr == nil {
			labels, err = strings.Split(s, ","), nil
		}
	}
	if err != nil {
		return err
	}
	m.Labels = strings.Join(labels, ",")
	switch action, _ := r.String("commitAction"); action {
	case "", "auto", "create", "update":
	default:
		return inputError("steps.%s.input.commitAction: %q; Backlot lays the workspace over the branch (auto, create or update); delete and skip are not supported yet", r.In.StepID, action)
	}
	msg, _ := r.String("commitMessage")
	msg = orDefault(msg, m.Title)
	if a.GitLab == nil && a.LocalFallback && a.Local != nil {
		return localChange(ctx, a, r, owner, name, m.Source, m.Target, m.Title, m.Description, msg)
	}
	gl, err := a.gitLab(r)
	if err != nil {
		return err
	}
	repo, id, err := gl.Project(ctx, owner, name)
	if err != nil {
		return notFoundIsInput(r, err)
	}
	m.Target = orDefault(m.Target, repo.DefaultBranch)
	commit, err := pushChange(ctx, r, gl, repo.RemoteURL, m.Target, m.Source, msg, author(r))
	if err != nil {
		return err
	}
	c, err := gl.OpenMergeRequest(ctx, repo, m)
	if err != nil {
		return err
	}
	r.Set("mergeRequestUrl", c.URL)
	r.Set("projectid", id)
	r.Set("projectPath", owner+"/"+name)
	r.Set("targetBranchName", m.Target)
	r.Logf("Merge request !%d of %s into %s: %s (commit %s)", c.Number, m.Source, m.Target, c.URL, short(commit))
	return nil
}

// gitlabGroupEnsureExists is gitlab:group:ensureExists: each level of the
// group path, created when missing; its output is the deepest group's id.
func gitlabGroupEnsureExists(ctx context.Context, a *Activities, r *Run) error {
	if _, err := r.Required("repoUrl"); err != nil {
		return err
	}
	path, err := groupPath(r)
	if err != nil {
		return err
	}
	gl, err := a.gitLab(r)
	if err != nil {
		return err
	}
	id, err := gl.EnsureGroup(ctx, path)
	if err != nil {
		return err
	}
	r.Set("groupId", id)
	r.Logf("Group %s exists (id %d)", strings.Join(path, "/"), id)
	return nil
}

// groupPath reads input.path: a list of group names from the top, or one
// string of them joined by /.
func groupPath(r *Run) ([]string, error) {
	var parts []string
	if s, ok := r.Input["path"].(string); ok {
		parts = strings.Split(strings.Trim(s, "/"), "/")
	} else {
		list, err := r.Strings("path")
		if err != nil {
			return nil, err
		}
		for _, p := range list {
			parts = append(parts, strings.Split(strings.Trim(p, "/"), "/")...)
		}
	}
	for _, p := range parts {
		if strings.TrimSpace(p) == "" {
			return nil, inputError("steps.%s.input.path: required, group names from the top (a list, or one string joined by /)", r.In.StepID)
		}
	}
	if len(parts) == 0 {
		return nil, inputError("steps.%s.input.path: required, group names from the top", r.In.StepID)
	}
	return parts, nil
}

// gitlabGroupDry checks the path and answers a placeholder id.
func gitlabGroupDry(_ context.Context, _ *Activities, r *Run) error {
	path, err := groupPath(r)
	if err != nil {
		return err
	}
	r.Set("groupId", 42)
	r.Logf("Dry run: would make sure group %s exists", strings.Join(path, "/"))
	return nil
}
