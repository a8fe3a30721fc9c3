package githost

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// GitLab is a git host behind GitLab's REST API (v4): projects are
// repositories and merge requests are change requests.
type GitLab struct {
	// BaseURL is the instance, e.g. https://gitlab.com; the API is under /api/v4.
	BaseURL string
	// Token is a personal, group or project access token; never logged.
	Token string
	// HTTP is the client; default a netguard client with a 30-second timeout
	// that reaches public addresses only and follows no redirect.
	HTTP *http.Client
}

// RepoFor returns the project a URL of the instance names (web address with
// or without /-/tree/<branch>/..., HTTPS or SSH clone URL; groups may nest);
// a URL of another host is an error, a project the API does not show is
// ErrNotFound.
func (g *GitLab) RepoFor(ctx context.Context, raw string) (Repo, error) {
	host, path, err := repoPath(raw)
	if err != nil {
		return Repo{}, err
	}
	if host != webHost(g.BaseURL) {
		return Repo{}, fmt.Errorf("githost: %q is not a project of %s", raw, webHost(g.BaseURL))
	}
	var p glProject
	if err := g.do(ctx, http.MethodGet, "/projects/"+url.PathEscape(path), nil, &p); err != nil {
		return Repo{}, fmt.Errorf("project %s: %w", path, err)
	}
	return p.repo(), nil
}

func (p glProject) repo() Repo {
	return Repo{Owner: p.Namespace.FullPath, Name: p.Path, RemoteURL: p.HTTPURL, DefaultBranch: p.DefaultBranch, Description: p.Description}
}

func (g *GitLab) do(ctx context.Context, method, path string, body, out any) error {
	return restCall(ctx, g.HTTP, "gitlab", method, strings.TrimSuffix(g.BaseURL, "/")+"/api/v4"+path, path, func(req *http.Request) {
		req.Header.Set("PRIVATE-TOKEN", g.Token)
	}, body, out)
}

func project(owner, name string) string { return url.PathEscape(owner + "/" + name) }

type glProject struct {
	Path      string `json:"path"`
	Namespace struct {
		FullPath string `json:"full_path"`
	} `json:"namespace"`
	HTTPURL       string `json:"http_url_to_repo"`
	DefaultBranch string `json:"default_branch"`
	Description   string `json:"description"`
}

// CreateRepo creates a project in the group owner, or returns the one of
// that path.
func (g *GitLab) CreateRepo(ctx context.Context, owner, name, defaultBranch, description string) (Repo, error) {
	var p glProject
	if err := g.do(ctx, http.MethodGet, "/projects/"+project(owner, name), nil, &p); err != nil {
		if ae, ok := err.(*APIError); !ok || ae.Status != http.StatusNotFound {
			return Repo{}, err
		}
		var ns struct {
			ID int `json:"id"`
		}
		if err := g.do(ctx, http.MethodGet, "/namespaces/"+url.PathEscape(owner), nil, &ns); err != nil {
			return Repo{}, err
		}
		if defaultBranch == "" {
			defaultBranch = "main"
		}
		if err := g.do(ctx, http.MethodPost, "/projects", map[string]any{"name": name, "path": name, "namespace_id": ns.ID,
			"description": description, "default_branch": defaultBranch, "visibility": "private"}, &p); err != nil {
			return Repo{}, err
		}
	}
	return p.repo(), nil
}

type glMR struct {
	IID          int    `json:"iid"`
	State        string `json:"state"`
	Title        string `json:"title"`
	Description  string `json:"description"`
	SourceBranch string `json:"source_branch"`
	SHA          string `json:"sha"`
	MergeSHA     string `json:"merge_commit_sha"`
	WebURL       string `json:"web_url"`
	HeadPipeline *struct {
		Status string `json:"status"`
	} `json:"head_pipeline"`
	Created time.Time `json:"created_at"`
	Updated time.Time `json:"updated_at"`
}

func (m glMR) change() Change {
	c := Change{Number: m.IID, Branch: m.SourceBranch, Title: m.Title, Body: m.Description, Head: m.SHA, Created: m.Created, Updated: m.Updated, State: ChangeOpen, URL: m.WebURL}
	switch m.State {
	case "merged":
		c.State, c.MergeCommit = ChangeMerged, m.MergeSHA
	case "closed":
		c.State = ChangeClosed
	}
	return c
}

func mrPath(r Repo) string { return "/projects/" + project(r.Owner, r.Name) + "/merge_requests" }

// OpenChange opens a merge request of branch, or returns the open one.
func (g *GitLab) OpenChange(ctx context.Context, r Repo, branch, title, body string) (Change, error) {
	var open []glMR
	q := url.Values{"state": {"opened"}, "source_branch": {branch}}
	if err := g.do(ctx, http.MethodGet, mrPath(r)+"?"+q.Encode(), nil, &open); err != nil {
		return Change{}, err
	}
	if len(open) > 0 {
		return open[0].change(), nil
	}
	var m glMR
	err := g.do(ctx, http.MethodPost, mrPath(r), map[string]any{"source_branch": branch, "target_branch": r.DefaultBranch, "title": title, "description": body}, &m)
	return m.change(), err
}

// Change returns a merge request as it is now, with its head pipeline's
// state as Checks (no pipeline: passed; success, skipped or manual: passed;
// failed or canceled: failed; else pending).
func (g *GitLab) Change(ctx context.Context, r Repo, number int) (Change, error) {
	m, err := g.mr(ctx, r, number)
	if err != nil {
		return Change{}, err
	}
	c := m.change()
	if c.State == ChangeOpen {
		c.Checks = ChecksPassed
		if m.HeadPipeline != nil {
			switch m.HeadPipeline.Status {
			case "success", "skipped", "manual":
			case "failed", "canceled":
				c.Checks = ChecksFailed
			default:
				c.Checks = ChecksPending
			}
		}
	}
	return c, nil
}

// mr reads a merge request; a missing one is ErrNotFound.
func (g *GitLab) mr(ctx context.Context, r Repo, number int) (glMR, error) {
	var m glMR
	err := g.do(ctx, http.MethodGet, fmt.Sprintf("%s/%d", mrPath(r), number), nil, &m)
	if err != nil {
		return m, fmt.Errorf("merge request %d of %s/%s: %w", number, r.Owner, r.Name, err)
	}
	return m, nil
}

// MergeChange merges a merge request; a merged one is returned as it is.
func (g *GitLab) MergeChange(ctx context.Context, r Repo, number int) (Change, error) {
	m, err := g.mr(ctx, r, number)
	if err != nil {
		return Change{}, err
	}
	switch m.State {
	case "merged":
		return m.change(), nil
	case "closed":
		return m.change(), fmt.Errorf("gitlab: merge request %d of %s/%s is closed", number, r.Owner, r.Name)
	}
	err = g.do(ctx, http.MethodPut, fmt.Sprintf("%s/%d/merge", mrPath(r), number), map[string]any{}, &m)
	return m.change(), err
}

// CloseChange closes a merge request without merging it.
func (g *GitLab) CloseChange(ctx context.Context, r Repo, number int) (Change, error) {
	var m glMR
	err := g.do(ctx, http.MethodPut, fmt.Sprintf("%s/%d", mrPath(r), number), map[string]any{"state_event": "close"}, &m)
	return m.change(), err
}

// GitHeader is the header git sends to push and clone: the token as basic
// authentication (user oauth2), only to URLs on the instance's own host.
func (g *GitLab) GitHeader(remoteURL string) string {
	if g.Token == "" || webHost(remoteURL) != webHost(g.BaseURL) {
		return ""
	}
	return basicAuth("oauth2", g.Token)
}
