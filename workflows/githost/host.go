package githost

import "context"

// Host is what the scaffolder and migrations need of a git host: create a
// repository, and open, merge and close change requests on branches already
// pushed to it. Local and GitHub implement it; every method is idempotent.
type Host interface {
	// CreateRepo creates the repository, or returns the one there.
	CreateRepo(ctx context.Context, owner, name, defaultBranch, description string) (Repo, error)
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
)
