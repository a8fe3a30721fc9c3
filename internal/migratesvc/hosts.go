package migratesvc

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"backlot.dev/backlot/workflows/githost"
)

// Hosts is every git host Backlot knows, as one githost.Host: a repository
// URL goes to the host that recognises it (RepoFor), and a repository to
// the host of its remote URL (file:// is the local host).
type Hosts struct {
	Local  *githost.Local
	GitHub *githost.GitHub
	GitLab *githost.GitLab
}

var _ githost.Host = Hosts{}

func (h Hosts) all() []githost.Host {
	var out []githost.Host
	if h.Local != nil {
		out = append(out, h.Local)
	}
	if h.GitHub != nil {
		out = append(out, h.GitHub)
	}
	if h.GitLab != nil {
		out = append(out, h.GitLab)
	}
	return out
}

// of returns the host of a repository.
func (h Hosts) of(r githost.Repo) (githost.Host, error) {
	switch {
	case strings.HasPrefix(r.RemoteURL, "file://") && h.Local != nil:
		return h.Local, nil
	case h.GitLab != nil && h.GitLab.BaseURL != "" && strings.HasPrefix(r.RemoteURL, strings.TrimSuffix(h.GitLab.BaseURL, "/")+"/"):
		return h.GitLab, nil
	case h.GitHub != nil && !strings.HasPrefix(r.RemoteURL, "file://"):
		return h.GitHub, nil
	}
	return nil, fmt.Errorf("no git host is configured for %s", r.RemoteURL)
}

// CreateRepo creates the repository on the local host.
func (h Hosts) CreateRepo(ctx context.Context, owner, name, defaultBranch, description string) (githost.Repo, error) {
	if h.Local == nil {
		return githost.Repo{}, errors.New("no local git host")
	}
	return h.Local.CreateRepo(ctx, owner, name, defaultBranch, description)
}

// RepoFor asks each host in turn; the first that recognises url answers.
func (h Hosts) RepoFor(ctx context.Context, url string) (githost.Repo, error) {
	var errs []error
	for _, host := range h.all() {
		r, err := host.RepoFor(ctx, url)
		if err == nil || errors.Is(err, githost.ErrNotFound) {
			return r, err
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return githost.Repo{}, fmt.Errorf("no git host is configured for %s", url)
	}
	return githost.Repo{}, fmt.Errorf("no configured git host holds %s: %w", url, errors.Join(errs...))
}

// Change reads a change request on the repository's host.
func (h Hosts) Change(ctx context.Context, r githost.Repo, number int) (githost.Change, error) {
	host, err := h.of(r)
	if err != nil {
		return githost.Change{}, err
	}
	return host.Change(ctx, r, number)
}

// OpenChange opens a change request on the repository's host.
func (h Hosts) OpenChange(ctx context.Context, r githost.Repo, branch, title, body string) (githost.Change, error) {
	host, err := h.of(r)
	if err != nil {
		return githost.Change{}, err
	}
	return host.OpenChange(ctx, r, branch, title, body)
}

// MergeChange merges a change request on the repository's host.
func (h Hosts) MergeChange(ctx context.Context, r githost.Repo, number int) (githost.Change, error) {
	host, err := h.of(r)
	if err != nil {
		return githost.Change{}, err
	}
	return host.MergeChange(ctx, r, number)
}

// CloseChange closes a change request on the repository's host.
func (h Hosts) CloseChange(ctx context.Context, r githost.Repo, number int) (githost.Change, error) {
	host, err := h.of(r)
	if err != nil {
		return githost.Change{}, err
	}
	return host.CloseChange(ctx, r, number)
}

// GitHeader returns the header git sends to the repository's host.
func (h Hosts) GitHeader(remoteURL string) string {
	host, err := h.of(githost.Repo{RemoteURL: remoteURL})
	if err != nil {
		return ""
	}
	if a, ok := host.(githost.GitAuthenticator); ok {
		return a.GitHeader(remoteURL)
	}
	return ""
}
