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
