package scaffolder

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"backlot.dev/backlot/policies"
	"backlot.dev/backlot/workflows/githost"
)

// LocalHost is the host name of Backlot's local git host in a repoUrl:
// local?owner=O&repo=R.
const LocalHost = "local"

// PublishInput is the input of publish:git (and of Backstage's publish:github).
type PublishInput struct {
	// RepoURL is host?owner=O&repo=R.
	RepoURL string
	// DefaultBranch is the branch to create; default main.
	DefaultBranch string
	// Description describes the repository.
	Description string
	// SourcePath is the workspace folder to publish; default the whole workspace.
	SourcePath string
	// Author is "Name <email>" of the commit; default Backlot's.
	Author string
	// Message is the commit message; default "Initial commit".
	Message string
}

// PublishOutput is what publish:git answers, like publish:github.
type PublishOutput struct {
	RemoteURL       string `json:"remoteUrl"`
	RepoContentsURL string `json:"repoContentsUrl"`
	CommitHash      string `json:"commitHash"`
}

// PublishLocal creates the repository of in.RepoURL on the local host (its
// host must be LocalHost) and publishes the workspace folder as its first
// commit. A retry after a crash finds the repository and the commit and
// answers the same.
func PublishLocal(ctx context.Context, host *githost.Local, w Workspace, in PublishInput) (PublishOutput, error) {
	loc, err := policies.ParseRepoURL(in.RepoURL)
	if err != nil {
		return PublishOutput{}, fmt.Errorf("repoUrl: %w", err)
	}
	if loc["host"] != LocalHost {
		return PublishOutput{}, fmt.Errorf("repoUrl: host %q; publish:git publishes to %q (local?owner=O&repo=R)", loc["host"], LocalHost)
	}
	owner, _ := loc["owner"].(string)
	if owner == "" {
		return PublishOutput{}, fmt.Errorf("repoUrl: %q names no owner", in.RepoURL)
	}
	dir, err := w.Path(in.SourcePath)
	if err != nil {
		return PublishOutput{}, fmt.Errorf("sourcePath: %w", err)
	}
	r, err := host.CreateRepo(ctx, owner, loc["repo"].(string), in.DefaultBranch, in.Description)
	if err != nil {
		return PublishOutput{}, err
	}
	msg := in.Message
	if strings.TrimSpace(msg) == "" {
		msg = "Initial commit"
	}
	commit, err := host.Publish(ctx, r, dir, msg, in.Author)
	if err != nil {
		return PublishOutput{}, err
	}
	return PublishOutput{RemoteURL: r.RemoteURL, RepoContentsURL: r.ContentsURL(), CommitHash: commit}, nil
}

// PublishRemote creates the repository of in.RepoURL on a REST host (GitHub
// or GitLab) and pushes the workspace folder as the first commit of its
// default branch over HTTPS, authenticating as user with token (sent in a
// header, never in the URL or the log). When the branch already has a commit,
// a retry after a crash, it answers that commit and pushes nothing.
func PublishRemote(ctx context.Context, host githost.Host, w Workspace, in PublishInput, user, token string) (PublishOutput, error) {
	loc, err := policies.ParseRepoURL(in.RepoURL)
	if err != nil {
		return PublishOutput{}, fmt.Errorf("repoUrl: %w", err)
	}
	owner, _ := loc["owner"].(string)
	repo, _ := loc["repo"].(string)
	if owner == "" || repo == "" {
		return PublishOutput{}, fmt.Errorf("repoUrl: %q names no owner or repo", in.RepoURL)
	}
	dir, err := w.Path(in.SourcePath)
	if err != nil {
		return PublishOutput{}, fmt.Errorf("sourcePath: %w", err)
	}
	r, err := host.CreateRepo(ctx, owner, repo, in.DefaultBranch, in.Description)
	if err != nil {
		return PublishOutput{}, err
	}
	header := ""
	if token != "" {
		header = "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+token))
	}
	gitc := func(dir string, args ...string) (string, error) {
		full := append([]string{"-c", "http.extraHeader=" + header}, args...)
		if header == "" {
			full = args
		}
		cmd := exec.CommandContext(ctx, "git", full...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
		cmd.Env = append(cmd.Env, githost.AuthorEnv(in.Author)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("git %s: %v: %s", args[0], err, strings.TrimSpace(strings.ReplaceAll(string(out), token, "***")))
		}
		return string(out), nil
	}
	contents := strings.TrimSuffix(r.RemoteURL, ".git") + "/blob/" + r.DefaultBranch
	if out, err := gitc(dir, "ls-remote", r.RemoteURL, "refs/heads/"+r.DefaultBranch); err != nil {
		return PublishOutput{}, err
	} else if f := strings.Fields(out); len(f) > 0 {
		return PublishOutput{RemoteURL: r.RemoteURL, RepoContentsURL: contents, CommitHash: f[0]}, nil
	}
	work, err := os.MkdirTemp("", "backlot-publish-")
	if err != nil {
		return PublishOutput{}, err
	}
	defer os.RemoveAll(work)
	gitDir := filepath.Join(work, "git")
	if _, err := gitc("", "init", "-q", "--bare", gitDir); err != nil {
		return PublishOutput{}, err
	}
	g := []string{"--git-dir", gitDir, "--work-tree", dir}
	if _, err := gitc("", append(g, "add", "-A", ".")...); err != nil {
		return PublishOutput{}, err
	}
	tree, err := gitc("", append(g, "write-tree")...)
	if err != nil {
		return PublishOutput{}, err
	}
	msg := in.Message
	if strings.TrimSpace(msg) == "" {
		msg = "Initial commit"
	}
	commit, err := gitc("", append(g, "commit-tree", strings.TrimSpace(tree), "-m", msg)...)
	if err != nil {
		return PublishOutput{}, err
	}
	commit = strings.TrimSpace(commit)
	if _, err := gitc("", "--git-dir", gitDir, "push", "-q", r.RemoteURL, commit+":refs/heads/"+r.DefaultBranch); err != nil {
		return PublishOutput{}, err
	}
	return PublishOutput{RemoteURL: r.RemoteURL, RepoContentsURL: contents, CommitHash: commit}, nil
}
