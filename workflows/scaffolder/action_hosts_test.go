package scaffolder_test

import (
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"
	"golang.org/x/crypto/nacl/box"

	"backlot.dev/backlot/workflows/githost"
	"backlot.dev/backlot/workflows/githost/githosttest"
	"backlot.dev/backlot/workflows/netguard"
	"backlot.dev/backlot/workflows/sandbox"
	"backlot.dev/backlot/workflows/scaffolder"
)

// loopbackHTTP reaches the fake hosts, which listen on loopback.
var loopbackHTTP = netguard.NewClient(netguard.Loopback(), 30*time.Second)

const fakeToken = "ghp-fake-t0ken"

// hostActs are activities whose GitHub and GitLab hosts are one fake.
func hostActs(t *testing.T) (*scaffolder.Activities, *githosttest.Fake) {
	t.Helper()
	f := githosttest.New(t, fakeToken, map[string]string{"ada": "User"})
	return &scaffolder.Activities{
		WorkDir: t.TempDir(),
		GitHub:  &githost.GitHub{BaseURL: f.URL, Token: fakeToken, HTTP: loopbackHTTP},
		GitLab:  &githost.GitLab{BaseURL: f.URL, Token: fakeToken, HTTP: loopbackHTTP},
	}, f
}

// twice runs one step's action two times with the same input, as a retry
// after a crash would, and answers both results.
func twice(t *testing.T, a *scaffolder.Activities, action string, input map[string]any, files map[string]string) [2]scaffolder.ActionResult {
	t.Helper()
	in := scaffolder.ActionInput{Task: "task-1", StepID: "step", Action: action, Input: input, Vars: map[string]any{},
		User: scaffolder.UserInfo{Ref: "user:default/ada"}}
	for p, c := range files {
		full := filepath.Join(a.WorkDir, "task-1", p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.WriteFile(full, []byte(c), 0o644)
	}
	var out [2]scaffolder.ActionResult
	for i := range out {
		res, err := scaffolder.RunAction(context.Background(), a, in, scaffolder.Secrets{"tok": fakeToken})
		if err != nil {
			t.Fatalf("%s, attempt %d: %v", action, i+1, err)
		}
		out[i] = res
	}
	return out
}

func TestGitHubPullRequestPushesOneBranchAndOpensOnePullRequest(t *testing.T) {
	t.Parallel()
	a, f := hostActs(t)
	f.AddRepo(t, "acme", "infra", map[string]string{"README.md": "# infra\n", "teams/other.yaml": "keep: me\n"})
	res := twice(t, a, "publish:github:pull-request", map[string]any{
		"repoUrl": "github.com?owner=acme&repo=infra", "branchName": "add-payments", "title": "Add payments",
		"description": "Adds the payments team", "sourcePath": "out", "targetPath": "teams", "draft": true,
		"reviewers": []any{"ada"}, "teamReviewers": []any{"platform"}, "gitAuthorName": "Ada", "gitAuthorEmail": "ada@example.com",
	}, map[string]string{"out/payments.yaml": "name: payments\n", "ignored.txt": "outside sourcePath\n"})
	if res[0].Output["pullRequestNumber"] != 1 || res[1].Output["pullRequestNumber"] != 1 || res[0].Output["targetBranchName"] != "main" {
		t.Fatalf("outputs %v then %v", res[0].Output, res[1].Output)
	}
	if !strings.HasSuffix(res[0].Output["remoteUrl"].(string), "/acme/infra/pull/1") {
		t.Fatalf("remoteUrl %v", res[0].Output["remoteUrl"])
	}
	changes := f.Changes()
	if len(changes) != 1 || f.Count("POST /repos/acme/infra/pulls") != 1 {
		t.Fatalf("%d pull requests, %d created", len(changes), f.Count("POST /repos/acme/infra/pulls"))
	}
	if changes[0].Body["draft"] != true || changes[0].Body["base"].(map[string]any)["ref"] != "main" || strings.Join(changes[0].Reviewers, ",") != "ada,team:platform" {
		t.Fatalf("pull request %+v", changes[0])
	}
	for file, want := range map[string]string{"teams/payments.yaml": "name: payments\n", "teams/other.yaml": "keep: me\n", "README.md": "# infra\n"} {
		if got, err := f.Show("acme", "infra", "add-payments", file); err != nil || got != want {
			t.Fatalf("%s on the branch: %q %v", file, got, err)
		}
	}
	if _, err := f.Show("acme", "infra", "add-payments", "teams/ignored.txt"); err == nil {
		t.Fatal("a file outside sourcePath was pushed")
	}
	log, err := gitOut(f.GitDir("acme", "infra"), "log", "--format=%an <%ae>|%s", "add-payments")
	if err != nil || log != "Ada <ada@example.com>|Add payments\nt <t@x>|first\n" {
		t.Fatalf("branch log %q %v", log, err)
	}
}

func TestGitHubRepoCreateAndPushAreIdempotent(t *testing.T) {
	t.Parallel()
	a, f := hostActs(t)
	twice(t, a, "github:repo:create", map[string]any{
		"repoUrl": "github.com?owner=acme&repo=ledger", "description": "The ledger", "repoVisibility": "internal",
		"deleteBranchOnMerge": true, "hasWiki": false, "topics": []any{"go", "payments"},
	}, nil)
	r := f.Repo("acme", "ledger")
	if r == nil || f.Count("POST /orgs/acme/repos") != 2 || f.Count("PATCH /repos/acme/ledger") != 1 {
		t.Fatalf("repo %+v; calls %v", r, f.Calls())
	}
	if r.Settings["visibility"] != "internal" || r.Settings["delete_branch_on_merge"] != true || r.Settings["has_wiki"] != false || strings.Join(r.Topics, ",") != "go,payments" {
		t.Fatalf("settings %v topics %v", r.Settings, r.Topics)
	}
	// A user's repository is created as the user's.
	twice(t, a, "github:repo:create", map[string]any{"repoUrl": "github.com?owner=ada&repo=notes"}, nil)
	if f.Repo("ada", "notes") == nil || f.Count("POST /user/repos") != 2 {
		t.Fatalf("ada/notes: %v", f.Calls())
	}
	res := twice(t, a, "github:repo:push", map[string]any{
		"repoUrl": "github.com?owner=acme&repo=ledger", "gitCommitMessage": "Start", "requiredStatusCheckContexts": []any{"ci"},
	}, map[string]string{"main.go": "package main\n"})
	if res[0].Output["commitHash"] == "" || res[0].Output["commitHash"] != res[1].Output["commitHash"] {
		t.Fatalf("commits %v and %v", res[0].Output["commitHash"], res[1].Output["commitHash"])
	}
	if got, err := f.Show("acme", "ledger", "main", "main.go"); err != nil || got != "package main\n" {
		t.Fatalf("main.go %q %v", got, err)
	}
	p := f.Repo("acme", "ledger").Protection["main"]
	if p["enforce_admins"] != true || p["required_status_checks"].(map[string]any)["contexts"].([]any)[0] != "ci" {
		t.Fatalf("protection %v", p)
	}
	// A repository with other commits is refused at once.
	f.AddRepo(t, "acme", "old", map[string]string{"x": "y"})
	_, err := scaffolder.RunAction(context.Background(), a, scaffolder.ActionInput{Task: "task-1", StepID: "push", Action: "github:repo:push",
		Input: map[string]any{"repoUrl": "github.com?owner=acme&repo=old"}}, nil)
	if err == nil || !strings.Contains(err.Error(), "already has commits") {
		t.Fatalf("push to a used repository: %v", err)
	}
}

func TestGitHubPagesDispatchWebhookAndEnvironmentDoNotDuplicate(t *testing.T) {
	t.Parallel()
	a, f := hostActs(t)
	f.AddRepo(t, "acme", "site", map[string]string{"index.md": "hi\n"})
	repo := "github.com?owner=acme&repo=site"
	twice(t, a, "github:pages:enable", map[string]any{"repoUrl": repo, "buildType": "legacy", "sourcePath": "/docs"}, nil)
	twice(t, a, "github:actions:dispatch", map[string]any{"repoUrl": repo, "workflowId": "deploy.yml", "branchOrTagName": "main",
		"workflowInputs": map[string]any{"env": "prod"}}, nil)
	twice(t, a, "github:webhook", map[string]any{"repoUrl": repo, "webhookUrl": "https://hooks.example/site", "webhookSecret": "${{ secrets.tok }}",
		"events": []any{"push", "pull_request"}, "contentType": "json"}, nil)
	twice(t, a, "github:environment:create", map[string]any{"repoUrl": repo, "name": "production",
		"deploymentBranchPolicy":  map[string]any{"protected_branches": false, "custom_branch_policies": true},
		"customBranchPolicyNames": []any{"main", "release/*"}, "customTagPolicyNames": []any{"v*"},
		"environmentVariables": map[string]any{"REGION": "eu-west-1"}, "secrets": map[string]any{"API_KEY": "k3y-value"}, "waitTimer": 5}, nil)
	r := f.Repo("acme", "site")
	if r.Pages["build_type"] != "legacy" || r.Pages["source"].(map[string]any)["path"] != "/docs" || f.Count("POST /repos/acme/site/pages") != 2 {
		t.Fatalf("pages %v", r.Pages)
	}
	if len(r.Dispatches) != 1 || r.Dispatches[0]["workflow"] != "deploy.yml" || r.Dispatches[0]["inputs"].(map[string]any)["env"] != "prod" {
		t.Fatalf("dispatches %v", r.Dispatches)
	}
	if len(r.Hooks) != 1 {
		t.Fatalf("hooks %v", r.Hooks)
	}
	cfg := r.Hooks[0]["config"].(map[string]any)
	if cfg["url"] != "https://hooks.example/site" || cfg["content_type"] != "json" || cfg["secret"] != fakeToken || len(r.Hooks[0]["events"].([]any)) != 2 {
		t.Fatalf("hook %v", r.Hooks[0])
	}
	env := r.Environments["production"]
	if env == nil || len(env["policies"].([]any)) != 3 || env["variables"].(map[string]any)["REGION"] != "eu-west-1" {
		t.Fatalf("environment %v", env)
	}
	// The secret left the process sealed with the repository's key.
	sealed := env["secrets"].(map[string]any)["API_KEY"].(map[string]any)
	raw, _ := base64.StdEncoding.DecodeString(sealed["encrypted_value"].(string))
	if strings.Contains(string(raw), "k3y-value") || sealed["key_id"] != "key-1" || len(raw) != box.AnonymousOverhead+len("k3y-value") {
		t.Fatalf("sealed secret %v", sealed)
	}
	// Without a host, an error names what to configure.
	_, err := scaffolder.RunAction(context.Background(), &scaffolder.Activities{WorkDir: t.TempDir()}, scaffolder.ActionInput{Task: "t", StepID: "pages",
		Action: "github:pages:enable", Input: map[string]any{"repoUrl": repo}}, nil)
	if err == nil || !strings.Contains(err.Error(), "BACKLOT_GITHUB_TOKEN") || !strings.Contains(err.Error(), "steps.pages") {
		t.Fatalf("no host: %v", err)
	}
}

func TestGitLabMergeRequestAndGroupsAreIdempotent(t *testing.T) {
	t.Parallel()
	a, f := hostActs(t)
	res := twice(t, a, "gitlab:group:ensureExists", map[string]any{"repoUrl": "gitlab.com?owner=x&repo=y", "path": []any{"acme", "platform", "tools"}}, nil)
	id := f.Group("acme/platform/tools")
	if id == 0 || res[0].Output["groupId"] != id || res[1].Output["groupId"] != id || f.Count("POST /api/v4/groups") != 3 {
		t.Fatalf("group id %d, outputs %v %v, calls %v", id, res[0].Output, res[1].Output, f.Calls())
	}
	f.AddRepo(t, "acme/platform/tools", "cli", map[string]string{"README.md": "# cli\n"})
	mr := twice(t, a, "publish:gitlab:merge-request", map[string]any{
		"repoUrl": "gitlab.com?owner=acme/platform/tools&repo=cli", "branchName": "docs", "title": "Add docs", "description": "Docs",
		"targetPath": "docs", "removeSourceBranch": true, "assignee": "ada", "labels": []any{"docs", "bot"},
	}, map[string]string{"guide.md": "# guide\n"})
	if len(f.Changes()) != 1 || mr[0].Output["mergeRequestUrl"] != mr[1].Output["mergeRequestUrl"] || mr[0].Output["projectPath"] != "acme/platform/tools/cli" {
		t.Fatalf("merge requests %v; outputs %v %v", f.Changes(), mr[0].Output, mr[1].Output)
	}
	body := f.Changes()[0].Body
	if body["remove_source_branch"] != true || body["target_branch"] != "main" || body["labels"] != "docs,bot" || body["assignee_id"] == nil {
		t.Fatalf("merge request %v", body)
	}
	if got, err := f.Show("acme/platform/tools", "cli", "docs", "docs/guide.md"); err != nil || got != "# guide\n" {
		t.Fatalf("docs/guide.md %q %v", got, err)
	}
}

// TestPullRequestFallsBackToTheLocalHostInATask runs a template whose
// publish:github:pull-request, in backlot dev without a GitHub token,
// proposes the change on the local git host.
func TestPullRequestFallsBackToTheLocalHostInATask(t *testing.T) {
	t.Parallel()
	var s testsuite.WorkflowTestSuite
	r := newRigWith(t, &s, func(a *scaffolder.Activities) { a.LocalFallback = true })
	if _, err := r.host.CreateRepo(context.Background(), "team-a", "infra", "main", ""); err != nil {
		t.Fatal(err)
	}
	seed := t.TempDir()
	os.WriteFile(filepath.Join(seed, "README.md"), []byte("# infra\n"), 0o644)
	repo, _ := r.host.Repo(context.Background(), "team-a", "infra")
	if _, err := githost.PublishDir(context.Background(), repo.RemoteURL, nil, seed, "main", "first", ""); err != nil {
		t.Fatal(err)
	}
	body := `{"apiVersion":"scaffolder.backstage.io/v1beta3","kind":"Template","metadata":{"name":"pr"},"spec":{"owner":"group:default/team-a","type":"service",
"steps":[{"id":"write","action":"catalog:write","input":{"filePath":"services/payments.yaml","entity":{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"payments"},"spec":{"type":"service","lifecycle":"production","owner":"team-a"}}}},
{"id":"pr","action":"publish:github:pull-request","input":{"repoUrl":"github.com?owner=team-a&repo=infra","branchName":"payments","title":"Add payments","description":"New service"}}],
"output":{"pr":"${{ steps.pr.output.remoteUrl }}"}}}`
	in := scaffolder.TaskInput{ID: "task-pr", User: scaffolder.UserInfo{Ref: "user:default/ada"},
		Template: scaffolder.TemplateInfo{Ref: "template:default/pr", Version: "v1", Body: []byte(body)}}
	st, err := r.run(t, in, nil)
	if err != nil {
		t.Fatalf("task: %v %+v", err, st.Log)
	}
	changes, _ := r.host.Changes(context.Background(), repo)
	if len(changes) != 1 || changes[0].Branch != "payments" || !strings.Contains(st.Output["pr"].(string), "1") {
		t.Fatalf("changes %+v, output %v", changes, st.Output)
	}
	if out, err := gitOut(strings.TrimPrefix(repo.RemoteURL, "file://"), "show", "payments:services/payments.yaml"); err != nil || !strings.Contains(out, "name: payments") {
		t.Fatalf("payments.yaml on the branch: %q %v", out, err)
	}
}

// gitOut runs git on a bare repository and answers its output.
func gitOut(gitDir string, args ...string) (string, error) {
	out, err := exec.Command("git", append([]string{"--git-dir", gitDir}, args...)...).CombinedOutput()
	return string(out), err
}

// TestFetchCookiecutterRendersInTheSandbox runs fetch:cookiecutter in a
// task, laid out as Backstage lays it out: the folder at url is the
// project's contents, rendered with the values laid over its own
// cookiecutter.json (a default derived from a value included), file names
// too, and copyWithoutRender keeps a file as it is.
func TestFetchCookiecutterRendersInTheSandbox(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("cookiecutter"); err != nil {
		t.Fatalf("cookiecutter is missing (scripts/test.sh installs it): %v", err)
	}
	sb, err := sandbox.New(context.Background(), sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var s testsuite.WorkflowTestSuite
	r := newRigWith(t, &s, func(a *scaffolder.Activities) { a.Sandbox = sb })
	// Cookiecutter starts Python in the sandbox: seconds on a busy machine.
	r.env.SetTestTimeout(2 * time.Minute)
	p, _ := filepath.Abs("testdata/cookiecutter/template.yaml")
	in := scaffolder.TaskInput{ID: "task-cookie", User: scaffolder.UserInfo{Ref: "user:default/ada"},
		Template: templateInfo(t, "template:default/cookie-service", p), Parameters: map[string]any{"name": "Pay Roll"}}
	st, err := r.run(t, in, nil)
	if err != nil {
		t.Fatalf("task: %v %+v", err, st.Log)
	}
	for file, want := range map[string]string{
		"service/README.md":    "# Pay Roll\n\nOwned by team-a; Python 3.11.\n",
		"service/raw.txt":      "{{ left as it is }}\n",
		"service/pay-roll.txt": "Service pay-roll of team-a\n",
	} {
		if got := gitShow(t, r.host, "team-a", "cookie", file); got != want {
			t.Errorf("%s: %q, want %q", file, got, want)
		}
	}
}

// TestFetchRailsRunsRailsNewInTheSandbox runs fetch:rails in a task: rails
// new with the application template of the template's folder, in the
// sandbox, published with the rest of the workspace.
func TestFetchRailsRunsRailsNewInTheSandbox(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("rails"); err != nil {
		t.Fatalf("rails is missing (scripts/test.sh installs ruby-railties): %v", err)
	}
	sb, err := sandbox.New(context.Background(), sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var s testsuite.WorkflowTestSuite
	r := newRigWith(t, &s, func(a *scaffolder.Activities) { a.Sandbox = sb })
	r.env.SetTestTimeout(3 * time.Minute)
	p, _ := filepath.Abs("testdata/rails/template.yaml")
	in := scaffolder.TaskInput{ID: "task-rails", User: scaffolder.UserInfo{Ref: "user:default/ada"},
		Template: templateInfo(t, "template:default/rails-app", p), Parameters: map[string]any{"name": "storefront"}}
	st, err := r.run(t, in, nil)
	if err != nil {
		t.Fatalf("task: %v %+v", err, st.Log)
	}
	if got := gitShow(t, r.host, "team-a", "storefront", "app/BACKLOT.md"); got != "Made by fetch:rails for storefront\n" {
		t.Fatalf("BACKLOT.md %q", got)
	}
	if got := gitShow(t, r.host, "team-a", "storefront", "app/config/database.yml"); !strings.Contains(got, "sqlite3") {
		t.Fatalf("database.yml %q", got)
	}
	if got := gitShow(t, r.host, "team-a", "storefront", "app/Gemfile"); !strings.Contains(got, "rails") {
		t.Fatalf("Gemfile %q", got)
	}
}
