package githost

import "context"

// Host is what the scaffolder and migrations need of a git host: create a
// repository or find the one a URL names, and open, read, merge and close
// change requests on branches already pushed to it. Local, GitHub and GitLab
// implement it; every method is idempotent.
type Host interface {
	// CreateRepo creates the repository, or returns the one there.
	CreateRepo(ctx context.Context, owner, name, defaultBranch, description string) (Repo, error)
	// RepoFor returns the repository a URL names: its clone URL or its web
	// address, with or without a /tree/<branch>/... suffix or a query. A URL
	// of another host is an error; a repository the host does not hold is
	// ErrNotFound.
	RepoFor(ctx context.Context, url string) (Repo, error)
	// Change returns a change request as it is now, with the state of its
	// checks (Checks), or ErrNotFound.
	Change(ctx context.Context, r Repo, number int) (Change, error)
	// OpenChange opens a change request of branch into the default branch, or
	// returns the open one of that branch.
	OpenChange(ctx context.Context, r Repo, branch, title, body string) (Change, error)
	// MergeChange merges a change request; merging a merged one returns it.
	MergeChange(ctx context.Context, r Repo, number int) (Change, error)
	// CloseChange closes a change request without merging it.
	CloseChange(ctx context.Context, r Repo, number int) (Change, error)
}

var (
	_ Host = (*Local)(nil)
	_ Host = (*GitHub)(nil)
	_ Host = (*GitLab)(nil)
)
