package scaffolder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.temporal.io/sdk/temporal"

	"backlot.dev/backlot/policies"
	"backlot.dev/backlot/workflows/githost"
)

// repoLocation reads input.repoUrl (host?owner=O&repo=R) into its parts.
func repoLocation(r *Run) (host, owner, repo string, err error) {
	u, err := r.Required("repoUrl")
	if err != nil {
		return "", "", "", err
	}
	loc, perr := policies.ParseRepoURL(u)
	if perr != nil {
		return "", "", "", inputError("steps.%s.input.repoUrl: %v", r.In.StepID, perr)
	}
	host, _ = loc["host"].(string)
	owner, _ = loc["owner"].(string)
	repo, _ = loc["repo"].(string)
	if owner == "" || repo == "" {
		return "", "", "", inputError("steps.%s.input.repoUrl: %q names no owner or repo (host?owner=O&repo=R)", r.In.StepID, u)
	}
	return host, owner, repo, nil
}

// gitHub is the GitHub host of an action, with input.token when given.
func (a *Activities) gitHub(r *Run) (*githost.GitHub, error) {
	tok, err := r.String("token")
	if err != nil {
		return nil, err
	}
	if a.GitHub == nil {
		return nil, inputError("steps.%s: %s: no GitHub host is configured (set BACKLOT_GITHUB_TOKEN, and BACKLOT_GITHUB_API_URL for GitHub Enterprise)", r.In.StepID, r.In.Action)
	}
	return a.GitHub.WithToken(tok), nil
}

// Bool returns the boolean input field name, or def when it is not set.
func (r *Run) Bool(name string, def bool) (bool, error) {
	v, ok := r.Input[name]
	if !ok || v == nil {
		return def, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, inputError("steps.%s.input.%s: want a boolean, got %T", r.In.StepID, name, v)
	}
	return b, nil
}

// Int returns the whole-number input field name, or def when it is not set.
func (r *Run) Int(name string, def int) (int, error) {
	switch x := r.Input[name].(type) {
	case nil:
		return def, nil
	case float64:
		if x == float64(int(x)) {
			return int(x), nil
		}
	case int64:
		return int(x), nil
	case int:
		return x, nil
	}
	return 0, inputError("steps.%s.input.%s: want a whole number, got %v", r.In.StepID, name, r.Input[name])
}

// Object returns the object input field name (nil when not set).
func (r *Run) Object(name string) (map[string]any, error) {
	v, ok := r.Input[name]
	if !ok || v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, inputError("steps.%s.input.%s: want an object, got %T", r.In.StepID, name, v)
	}
	return m, nil
}

// unsupported refuses input fields Backlot does not carry out yet, so a
// template never silently loses what it asked for.
func unsupported(r *Run, why string, names ...string) error {
	for _, n := range names {
		if v, ok := r.Input[n]; ok && v != nil {
			return inputError("steps.%s.input.%s: %s does not support it yet (%s)", r.In.StepID, n, r.In.Action, why)
		}
	}
	return nil
}

// author reads gitAuthorName and gitAuthorEmail as "Name <email>", or "".
func author(r *Run) string {
	name, _ := r.String("gitAuthorName")
	email, _ := r.String("gitAuthorEmail")
	if name == "" && email == "" {
		return ""
	}
	if email == "" {
		email = "backlot@localhost"
	}
	return strings.TrimSpace(name) + " <" + email + ">"
}

// stringMap reads an object of strings (environment variables, secrets).
func stringMap(r *Run, name string) (map[string]string, error) {
	m, err := r.Object(name)
	if err != nil || m == nil {
		return nil, err
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case string:
			out[k] = x
		case float64, bool, int64:
			out[k] = fmt.Sprint(x)
		default:
			return nil, inputError("steps.%s.input.%s.%s: want a string, got %T", r.In.StepID, name, k, v)
		}
	}
	return out, nil
}

// pushChange pushes the workspace folder sourcePath over base at
// targetPath as branch of repo (remote), failing at once when it changes
// nothing.
func pushChange(ctx context.Context, r *Run, host githost.Host, remote, base, branch, message, author string) (string, error) {
	src, _ := r.String("sourcePath")
	dir, err := r.Workspace.Path(src)
	if err != nil {
		return "", inputError("steps.%s.input.sourcePath: %v", r.In.StepID, err)
	}
	target, _ := r.String("targetPath")
	if target != "" {
		if _, err := (Workspace{Dir: "/"}).Path(target); err != nil {
			return "", inputError("steps.%s.input.targetPath: %v", r.In.StepID, err)
		}
	}
	commit, changed, err := githost.PushBranch(ctx, remote, githost.GitAuthEnv(host, remote), githost.BranchPush{
		Base: base, Branch: branch, Dir: dir, TargetPath: target, Message: message, Author: author})
	if err != nil {
		return "", err
	}
	if !changed {
		return "", inputError("steps.%s: the workspace (%s) changes nothing on %s: there is nothing to propose", r.In.StepID, orDot(src), base)
	}
	return commit, nil
}

// publishGitHubPullRequest is publish:github:pull-request: the workspace
// (sourcePath) laid over the target branch (at targetPath) as one commit
// on branchName, and a pull request of it. A retry finds the branch holding
// the same files and the open pull request, and makes neither again.
func publishGitHubPullRequest(ctx context.Context, a *Activities, r *Run) error {
	_, owner, name, err := repoLocation(r)
	if err != nil {
		return err
	}
	var in struct{ branch, target, title, body, message string }
	if in.branch, err = r.Required("branchName"); err != nil {
		return err
	}
	if in.title, err = r.Required("title"); err != nil {
		return err
	}
	if in.body, err = r.String("description"); err != nil {
		return err
	}
	if in.target, err = r.String("targetBranchName"); err != nil {
		return err
	}
	if in.message, _ = r.String("commitMessage"); in.message == "" {
		in.message = in.title
	}
	draft, err := r.Bool("draft", false)
	if err != nil {
		return err
	}
	reviewers, err := r.Strings("reviewers")
	if err != nil {
		return err
	}
	teams, err := r.Strings("teamReviewers")
	if err != nil {
		return err
	}
	if err := unsupported(r, "the branch is pushed to the repository itself", "forceFork"); err != nil {
		return err
	}
	if a.GitHub == nil && a.LocalFallback && a.Local != nil {
		return localChange(ctx, a, r, owner, name, in.branch, in.target, in.title, in.body, in.message)
	}
	gh, repo, err := a.gitHubRepo(ctx, r, owner, name)
	if err != nil {
		return err
	}
	base := orDefault(in.target, repo.DefaultBranch)
	commit, err := pushChange(ctx, r, gh, repo.RemoteURL, base, in.branch, in.message, author(r))
	if err != nil {
		return err
	}
	pr, err := gh.OpenPullRequest(ctx, owner, name, githost.PullRequest{Head: in.branch, Base: base, Title: in.title, Body: in.body,
		Draft: draft, Reviewers: reviewers, TeamReviewers: teams})
	if err != nil {
		return err
	}
	r.Set("remoteUrl", pr.URL)
	r.Set("pullRequestNumber", pr.Number)
	r.Set("targetBranchName", base)
	r.Logf("Pull request #%d of %s into %s: %s (commit %s)", pr.Number, in.branch, base, pr.URL, short(commit))
	return nil
}

// localChange is a pull or merge request action in backlot dev without the
// host: the branch and the change request go to the local git host.
func localChange(ctx context.Context, a *Activities, r *Run, owner, name, branch, target, title, body, message string) error {
	repo, err := a.Local.Repo(ctx, owner, name)
	if err != nil {
		return notFoundIsInput(r, err)
	}
	base := orDefault(target, repo.DefaultBranch)
	commit, err := pushChange(ctx, r, a.Local, repo.RemoteURL, base, branch, message, author(r))
	if err != nil {
		return err
	}
	repo.DefaultBranch = base
	c, err := a.Local.OpenChange(ctx, repo, branch, title, body)
	if err != nil {
		return err
	}
	url := githost.LocalChangeURL(repo.RemoteURL, c.Number)
	switch r.In.Action {
	case "publish:gitlab:merge-request":
		r.Set("mergeRequestUrl", url)
		r.Set("projectPath", owner+"/"+name)
		r.Set("projectid", owner+"/"+name)
	default:
		r.Set("remoteUrl", url)
		r.Set("pullRequestNumber", c.Number)
	}
	r.Set("targetBranchName", base)
	r.Logf("No %s host is configured: opened change request #%d of %s/%s on the local git host instead (%s, commit %s)",
		strings.SplitN(r.In.Action, ":", 3)[1], c.Number, owner, name, url, short(commit))
	return nil
}

// gitHubRepo is the GitHub host of an action (with input.token when
// given) and its existing repository owner/name; a repository that is not
// there is an input error naming repoUrl.
func (a *Activities) gitHubRepo(ctx context.Context, r *Run, owner, name string) (*githost.GitHub, githost.Repo, error) {
	gh, err := a.gitHub(r)
	if err != nil {
		return nil, githost.Repo{}, err
	}
	repo, err := gh.RepoFor(ctx, gh.WebURLOf(owner, name))
	if err != nil {
		return nil, githost.Repo{}, notFoundIsInput(r, err)
	}
	return gh, repo, nil
}

// notFoundIsInput makes a missing repository a non-retryable error naming
// repoUrl.
func notFoundIsInput(r *Run, err error) error {
	if errors.Is(err, githost.ErrNotFound) {
		return inputError("steps.%s.input.repoUrl: %v", r.In.StepID, err)
	}
	return err
}

// githubRepoCreate is github:repo:create: the repository with its settings
// and topics, no content. A retry finds the repository and sets the same
// settings.
func githubRepoCreate(ctx context.Context, a *Activities, r *Run) error {
	_, owner, name, err := repoLocation(r)
	if err != nil {
		return err
	}
	if err := unsupported(r, "set them with a later step or by hand", "collaborators", "repoVariables", "secrets", "oidcCustomization", "customProperties", "access"); err != nil {
		return err
	}
	gh, err := a.gitHub(r)
	if err != nil {
		return err
	}
	var opts githost.RepoOptions
	if opts.Description, err = r.String("description"); err != nil {
		return err
	}
	if opts.Homepage, err = r.String("homepage"); err != nil {
		return err
	}
	if opts.Visibility, err = r.String("repoVisibility"); err != nil {
		return err
	}
	switch opts.Visibility {
	case "", "private", "public", "internal":
	default:
		return inputError("steps.%s.input.repoVisibility: %q; give private, public or internal", r.In.StepID, opts.Visibility)
	}
	if opts.Topics, err = r.Strings("topics"); err != nil {
		return err
	}
	opts.Settings = map[string]any{}
	for in, field := range map[string]string{"deleteBranchOnMerge": "delete_branch_on_merge", "allowMergeCommit": "allow_merge_commit",
		"allowSquashMerge": "allow_squash_merge", "allowRebaseMerge": "allow_rebase_merge", "allowAutoMerge": "allow_auto_merge",
		"allowUpdateBranch": "allow_update_branch", "hasProjects": "has_projects", "hasWiki": "has_wiki", "hasIssues": "has_issues"} {
		if v, ok := r.Input[in]; ok && v != nil {
			b, err := r.Bool(in, false)
			if err != nil {
				return err
			}
			opts.Settings[field] = b
		}
	}
	for in, field := range map[string]string{"squashMergeCommitTitle": "squash_merge_commit_title", "squashMergeCommitMessage": "squash_merge_commit_message"} {
		if s, err := r.String(in); err != nil {
			return err
		} else if s != "" {
			opts.Settings[field] = s
		}
	}
	repo, created, err := gh.CreateRepoWith(ctx, owner, name, opts)
	if err != nil {
		return err
	}
	web := gh.WebURLOf(owner, name)
	r.Set("remoteUrl", repo.RemoteURL)
	r.Set("repoContentsUrl", web+"/blob/"+orDefault(repo.DefaultBranch, "main"))
	if created {
		r.Logf("Created repository %s/%s", owner, name)
	} else {
		r.Logf("Repository %s/%s was there: its settings are brought to the template's", owner, name)
	}
	return nil
}

// githubRepoPush is github:repo:push: the workspace as the first commit of
// the default branch of an existing repository, then that branch's
// protection. A retry finds the commit and pushes nothing.
func githubRepoPush(ctx context.Context, a *Activities, r *Run) error {
	_, owner, name, err := repoLocation(r)
	if err != nil {
		return err
	}
	gh, repo, err := a.gitHubRepo(ctx, r, owner, name)
	if err != nil {
		return err
	}
	branch, err := r.String("defaultBranch")
	if err != nil {
		return err
	}
	branch = orDefault(branch, "main")
	src, _ := r.String("sourcePath")
	dir, err := r.Workspace.Path(src)
	if err != nil {
		return inputError("steps.%s.input.sourcePath: %v", r.In.StepID, err)
	}
	msg, _ := r.String("gitCommitMessage")
	commit, err := githost.PublishDir(ctx, repo.RemoteURL, githost.GitAuthEnv(gh, repo.RemoteURL), dir, branch, orDefault(msg, "initial commit"), author(r))
	if errors.Is(err, githost.ErrRepoNotEmpty) {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("steps.%s: %v", r.In.StepID, err), RepoExistsErrorType, nil)
	}
	if err != nil {
		return err
	}
	protect, err := r.Bool("protectDefaultBranch", true)
	if err != nil {
		return err
	}
	if protect {
		var p githost.BranchProtection
		if p.EnforceAdmins, err = r.Bool("protectEnforceAdmins", true); err != nil {
			return err
		}
		if p.RequireCodeOwnerReviews, err = r.Bool("requireCodeOwnerReviews", false); err != nil {
			return err
		}
		if p.RequiredApprovingReviewCount, err = r.Int("requiredApprovingReviewCount", 1); err != nil {
			return err
		}
		if p.RequiredStatusCheckContexts, err = r.Strings("requiredStatusCheckContexts"); err != nil {
			return err
		}
		if err := gh.ProtectBranch(ctx, owner, name, branch, p); err != nil {
			return err
		}
		r.Logf("Protected %s", branch)
	}
	r.Set("remoteUrl", repo.RemoteURL)
	r.Set("repoContentsUrl", gh.WebURLOf(owner, name)+"/blob/"+branch)
	r.Set("commitHash", commit)
	r.Logf("Pushed the workspace to %s/%s %s at commit %s", owner, name, branch, short(commit))
	return nil
}

// githubPagesEnable is github:pages:enable: GitHub Pages on (or brought to
// these settings when on).
func githubPagesEnable(ctx context.Context, a *Activities, r *Run) error {
	_, owner, name, err := repoLocation(r)
	if err != nil {
		return err
	}
	gh, err := a.gitHub(r)
	if err != nil {
		return err
	}
	build, _ := r.String("buildType")
	build = orDefault(build, "workflow")
	if build != "workflow" && build != "legacy" {
		return inputError("steps.%s.input.buildType: %q; give workflow or legacy", r.In.StepID, build)
	}
	branch, _ := r.String("sourceBranch")
	path, _ := r.String("sourcePath")
	path = orDefault(path, "/")
	if path != "/" && path != "/docs" {
		return inputError("steps.%s.input.sourcePath: %q; give / or /docs", r.In.StepID, path)
	}
	p, err := gh.EnablePages(ctx, owner, name, build, orDefault(branch, "main"), path)
	if err != nil {
		return err
	}
	r.Logf("GitHub Pages of %s/%s: %s build from %s%s, %s", owner, name, build, orDefault(branch, "main"), path, p.HTMLURL)
	return nil
}

// githubActionsDispatch is github:actions:dispatch. GitHub answers a
// dispatch with no run to look up, so the step records it beside the
// task's workspace: a retry on the same worker finds the record and does
// not start the workflow again.
func githubActionsDispatch(ctx context.Context, a *Activities, r *Run) error {
	_, owner, name, err := repoLocation(r)
	if err != nil {
		return err
	}
	wf, err := r.Required("workflowId")
	if err != nil {
		return err
	}
	ref, err := r.Required("branchOrTagName")
	if err != nil {
		return err
	}
	inputs, err := r.Object("workflowInputs")
	if err != nil {
		return err
	}
	gh, err := a.gitHub(r)
	if err != nil {
		return err
	}
	mark, err := a.doneMark(r)
	if err != nil {
		return err
	}
	if _, err := os.Stat(mark); err == nil {
		r.Logf("Workflow %s of %s/%s was dispatched on %s by an earlier attempt of this step: not again", wf, owner, name, ref)
		return nil
	}
	if err := gh.DispatchWorkflow(ctx, owner, name, wf, ref, inputs); err != nil {
		return err
	}
	if err := os.WriteFile(mark, nil, 0o644); err != nil {
		return err
	}
	r.Logf("Dispatched workflow %s of %s/%s on %s", wf, owner, name, ref)
	return nil
}

// doneMark is the file that records a step (of this input: each item of a
// loop has its own) as done on this worker.
func (a *Activities) doneMark(r *Run) (string, error) {
	dir := filepath.Join(a.WorkDir, safeName(r.In.Task)+".done")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	raw, _ := json.Marshal([]any{r.Input, r.In.Vars["each"]})
	sum := sha256.Sum256(raw)
	return filepath.Join(dir, safeName(r.In.StepID)+"-"+hex.EncodeToString(sum[:8])), nil
}

// githubWebhook is github:webhook: one webhook per URL, created or brought
// to the template's settings.
func githubWebhook(ctx context.Context, a *Activities, r *Run) error {
	_, owner, name, err := repoLocation(r)
	if err != nil {
		return err
	}
	var w githost.Webhook
	if w.URL, err = r.Required("webhookUrl"); err != nil {
		return err
	}
	if w.Secret, err = r.String("webhookSecret"); err != nil {
		return err
	}
	if w.Events, err = r.Strings("events"); err != nil {
		return err
	}
	if len(w.Events) == 0 {
		w.Events = []string{"push"}
	}
	if w.Active, err = r.Bool("active", true); err != nil {
		return err
	}
	if w.InsecureSSL, err = r.Bool("insecureSsl", false); err != nil {
		return err
	}
	ct, _ := r.String("contentType")
	w.ContentType = orDefault(ct, "form")
	if w.ContentType != "form" && w.ContentType != "json" {
		return inputError("steps.%s.input.contentType: %q; give form or json", r.In.StepID, ct)
	}
	gh, err := a.gitHub(r)
	if err != nil {
		return err
	}
	id, created, err := gh.EnsureWebhook(ctx, owner, name, w)
	if err != nil {
		return err
	}
	verb := "Created"
	if !created {
		verb = "Updated the existing"
	}
	r.Logf("%s webhook %d of %s/%s to %s (%s)", verb, id, owner, name, w.URL, strings.Join(w.Events, ", "))
	return nil
}

// githubEnvironmentCreate is github:environment:create: the deployment
// environment, its branch and tag policies, variables and secrets (sealed
// with the repository's key); a retry sets the same.
func githubEnvironmentCreate(ctx context.Context, a *Activities, r *Run) error {
	_, owner, name, err := repoLocation(r)
	if err != nil {
		return err
	}
	if err := unsupported(r, "add reviewers by hand", "reviewers"); err != nil {
		return err
	}
	var e githost.Environment
	if e.Name, err = r.Required("name"); err != nil {
		return err
	}
	policy, err := r.Object("deploymentBranchPolicy")
	if err != nil {
		return err
	}
	if policy != nil {
		e.ProtectedBranches, _ = policy["protected_branches"].(bool)
		e.CustomPolicies, _ = policy["custom_branch_policies"].(bool)
		if e.ProtectedBranches && e.CustomPolicies {
			return inputError("steps.%s.input.deploymentBranchPolicy: protected_branches and custom_branch_policies cannot both be true", r.In.StepID)
		}
	}
	if e.CustomBranches, err = r.Strings("customBranchPolicyNames"); err != nil {
		return err
	}
	if e.CustomTags, err = r.Strings("customTagPolicyNames"); err != nil {
		return err
	}
	if e.Variables, err = stringMap(r, "environmentVariables"); err != nil {
		return err
	}
	if e.Secrets, err = stringMap(r, "secrets"); err != nil {
		return err
	}
	if e.WaitTimer, err = r.Int("waitTimer", 0); err != nil {
		return err
	}
	if e.PreventSelfReview, err = r.Bool("preventSelfReview", false); err != nil {
		return err
	}
	gh, err := a.gitHub(r)
	if err != nil {
		return err
	}
	if err := gh.EnsureEnvironment(ctx, owner, name, e); err != nil {
		return err
	}
	r.Logf("Environment %s of %s/%s: %d variables, %d secrets, %d branch and %d tag policies", e.Name, owner, name,
		len(e.Variables), len(e.Secrets), len(e.CustomBranches), len(e.CustomTags))
	return nil
}

// hostDry is the dry run of an action that changes a git host: it checks
// repoUrl and says what would happen; outputs are placeholders.
func hostDry(outputs map[string]any) ActionFunc {
	return func(_ context.Context, _ *Activities, r *Run) error {
		host, owner, name, err := repoLocation(r)
		if err != nil {
			return err
		}
		for k, v := range outputs {
			if s, ok := v.(string); ok {
				v = strings.NewReplacer("{host}", host, "{owner}", owner, "{repo}", name).Replace(s)
			}
			r.Set(k, v)
		}
		r.Logf("Dry run: would run %s on %s/%s at %s", r.In.Action, owner, name, host)
		return nil
	}
}
