package scaffolder

import (
	"context"
	"fmt"
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

// PublishLocal is Publish on the local host, for a repoUrl of LocalHost
// (local?owner=O&repo=R).
func PublishLocal(ctx context.Context, host *githost.Local, w Workspace, in PublishInput) (PublishOutput, error) {
	loc, err := policies.ParseRepoURL(in.RepoURL)
	if err != nil {
		return PublishOutput{}, &ParameterError{Field: "repoUrl", Problem: err.Error()}
	}
	if loc["host"] != LocalHost {
		return PublishOutput{}, &ParameterError{Field: "repoUrl", Problem: fmt.Sprintf("host %q; publish:git publishes to %q (local?owner=O&repo=R)", loc["host"], LocalHost)}
	}
	return Publish(ctx, host, w, in)
}

// Publish creates the repository of in.RepoURL (owner and repo) on host and
// pushes the workspace folder as the first commit of its default branch,
// with the host's token in git's environment (githost.GitAuthEnv), never in
// the URL or the log. A retry after a crash finds the repository and the
// commit and answers the same. A problem with the input is a
// *ParameterError naming the field.
func Publish(ctx context.Context, host githost.Host, w Workspace, in PublishInput) (PublishOutput, error) {
	loc, err := policies.ParseRepoURL(in.RepoURL)
	if err != nil {
		return PublishOutput{}, &ParameterError{Field: "repoUrl", Problem: err.Error()}
	}
	owner, _ := loc["owner"].(string)
	repo, _ := loc["repo"].(string)
	if owner == "" || repo == "" {
		return PublishOutput{}, &ParameterError{Field: "repoUrl", Problem: fmt.Sprintf("%q names no owner or repo", in.RepoURL)}
	}
	dir, err := w.Path(in.SourcePath)
	if err != nil {
		return PublishOutput{}, &ParameterError{Field: "sourcePath", Problem: err.Error()}
	}
	r, err := host.CreateRepo(ctx, owner, repo, in.DefaultBranch, in.Description)
	if err != nil {
		return PublishOutput{}, err
	}
	msg := in.Message
	if strings.TrimSpace(msg) == "" {
		msg = "Initial commit"
	}
	commit, err := githost.PublishDir(ctx, r.RemoteURL, githost.GitAuthEnv(host, r.RemoteURL), dir, r.DefaultBranch, msg, in.Author)
	if err != nil {
		return PublishOutput{}, err
	}
	// The local host's files are read as ?ref= URLs; GitHub's and GitLab's
	// as blob URLs, as Backstage's publish actions answer them.
	contents := strings.TrimSuffix(r.RemoteURL, ".git") + "/blob/" + r.DefaultBranch
	if _, local := host.(*githost.Local); local {
		contents = r.ContentsURL()
	}
	return PublishOutput{RemoteURL: r.RemoteURL, RepoContentsURL: contents, CommitHash: commit}, nil
}
