package githost

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// GitHub is a git host behind GitHub's REST API (github.com or GitHub
// Enterprise). Its repositories are pushed to over HTTPS with the token.
type GitHub struct {
	// BaseURL is the API's root; default https://api.github.com.
	BaseURL string
	// Token authenticates every request (a personal access token or an app
	// installation token). It is never logged.
	Token string
	// HTTP is the client; default a netguard client with a 30-second timeout
	// that reaches public addresses only and follows no redirect.
	HTTP *http.Client
	// WebURL is the web address repositories are named by
	// (https://github.com/owner/name); default https://github.com for the
	// public API, else BaseURL's scheme and host (GitHub Enterprise).
	WebURL string
}

// webHost is the host name repository URLs must name.
func (g *GitHub) webHost() string {
	switch {
	case g.WebURL != "":
		return webHost(g.WebURL)
	case g.BaseURL == "" || webHost(g.BaseURL) == "api.github.com":
		return "github.com"
	}
	return webHost(g.BaseURL)
}

// RepoFor returns the repository a github URL names (web address, HTTPS or
// SSH clone URL, with or without /tree/<branch>/...); a URL of another host
// is an error, a repository the API does not show is ErrNotFound.
func (g *GitHub) RepoFor(ctx context.Context, raw string) (Repo, error) {
	host, path, err := repoPath(raw)
	if err != nil {
		return Repo{}, err
	}
	parts := strings.Split(path, "/")
	if host != g.webHost() || len(parts) != 2 {
		return Repo{}, fmt.Errorf("githost: %q is not a repository of %s", raw, g.webHost())
	}
	var r ghRepo
	if err := g.do(ctx, http.MethodGet, "/repos/"+url.PathEscape(parts[0])+"/"+url.PathEscape(parts[1]), nil, &r); err != nil {
		return Repo{}, fmt.Errorf("repository %s: %w", path, err)
	}
	if r.Name == "" {
		return Repo{}, fmt.Errorf("%w: repository %s", ErrNotFound, path)
	}
	return r.repo(), nil
}

func (g *GitHub) do(ctx context.Context, method, path string, body, out any) error {
	base := g.BaseURL
	if base == "" {
		base = "https://api.github.com"
	}
	return restCall(ctx, g.HTTP, "github", method, strings.TrimSuffix(base, "/")+path, path, func(req *http.Request) {
		req.Header.Set("Accept", "application/vnd.github+json")
		req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
		if g.Token != "" {
			req.Header.Set("Authorization", "Bearer "+g.Token)
		}
	}, body, out)
}

type ghRepo struct {
	Name          string                 `json:"name"`
	Owner         struct{ Login string } `json:"owner"`
	CloneURL      string                 `json:"clone_url"`
	DefaultBranch string                 `json:"default_branch"`
	Description   string                 `json:"description"`
}

func (r ghRepo) repo() Repo {
	return Repo{Owner: r.Owner.Login, Name: r.Name, RemoteURL: r.CloneURL, DefaultBranch: r.DefaultBranch, Description: r.Description}
}

// CreateRepo creates a repository in the organization owner, or returns the
// one of that name (GitHub answers 422 when the name is taken).
func (g *GitHub) CreateRepo(ctx context.Context, owner, name, defaultBranch, description string) (Repo, error) {
	var r ghRepo
	path := "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name)
	err := g.do(ctx, http.MethodPost, "/orgs/"+url.PathEscape(owner)+"/repos", map[string]any{"name": name, "description": description, "private": true}, &r)
	if ae, ok := err.(*APIError); ok && ae.Status == http.StatusUnprocessableEntity {
		err = g.do(ctx, http.MethodGet, path, nil, &r)
	}
	if err != nil {
		return Repo{}, err
	}
	out := r.repo()
	if defaultBranch != "" {
		out.DefaultBranch = defaultBranch
	}
	return out, nil
}

type ghPull struct {
	Number   int    `json:"number"`
	State    string `json:"state"`
	Title    string `json:"title"`
	Body     string `json:"body"`
	HTMLURL  string `json:"html_url"`
	Merged   bool   `json:"merged"`
	MergeSHA string `json:"merge_commit_sha"`
	Head     struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	} `json:"head"`
	Created time.Time `json:"created_at"`
	Updated time.Time `json:"updated_at"`
}

func (p ghPull) change() Change {
	c := Change{Number: p.Number, Branch: p.Head.Ref, Title: p.Title, Body: p.Body, Head: p.Head.SHA, Created: p.Created, Updated: p.Updated, State: ChangeOpen, URL: p.HTMLURL}
	switch {
	case p.Merged:
		c.State, c.MergeCommit = ChangeMerged, p.MergeSHA
	case p.State == "closed":
		c.State = ChangeClosed
	}
	return c
}

func pullsPath(r Repo) string {
	return "/repos/" + url.PathEscape(r.Owner) + "/" + url.PathEscape(r.Name) + "/pulls"
}

// OpenChange opens a pull request of branch, or returns the open one.
func (g *GitHub) OpenChange(ctx context.Context, r Repo, branch, title, body string) (Change, error) {
	var open []ghPull
	q := url.Values{"state": {"open"}, "head": {r.Owner + ":" + branch}}
	if err := g.do(ctx, http.MethodGet, pullsPath(r)+"?"+q.Encode(), nil, &open); err != nil {
		return Change{}, err
	}
	if len(open) > 0 {
		return open[0].change(), nil
	}
	var p ghPull
	err := g.do(ctx, http.MethodPost, pullsPath(r), map[string]any{"title": title, "body": body, "head": branch, "base": r.DefaultBranch}, &p)
	return p.change(), err
}

// Change returns a pull request as it is now, with the state of its head
// commit's check runs (ChecksPassed) when it is open.
func (g *GitHub) Change(ctx context.Context, r Repo, number int) (Change, error) {
	c, err := g.pull(ctx, r, number)
	if err != nil || c.State != ChangeOpen || c.Head == "" {
		return c, err
	}
	done, passed, err := g.ChecksPassed(ctx, r, c.Head)
	switch {
	case err != nil:
		return c, err
	case !done:
		c.Checks = ChecksPending
	case passed:
		c.Checks = ChecksPassed
	default:
		c.Checks = ChecksFailed
	}
	return c, nil
}

// pull reads a pull request; a missing one is ErrNotFound.
func (g *GitHub) pull(ctx context.Context, r Repo, number int) (Change, error) {
	var p ghPull
	err := g.do(ctx, http.MethodGet, fmt.Sprintf("%s/%d", pullsPath(r), number), nil, &p)
	if err != nil {
		return Change{}, fmt.Errorf("pull request %d of %s/%s: %w", number, r.Owner, r.Name, err)
	}
	return p.change(), nil
}

// MergeChange merges a pull request; a merged one is returned as it is.
func (g *GitHub) MergeChange(ctx context.Context, r Repo, number int) (Change, error) {
	c, err := g.pull(ctx, r, number)
	if err != nil || c.State == ChangeMerged {
		return c, err
	}
	if c.State == ChangeClosed {
		return c, fmt.Errorf("github: pull request %d of %s/%s is closed", number, r.Owner, r.Name)
	}
	if err := g.do(ctx, http.MethodPut, fmt.Sprintf("%s/%d/merge", pullsPath(r), number), map[string]any{"merge_method": "merge"}, nil); err != nil {
		return c, err
	}
	return g.pull(ctx, r, number)
}

// CloseChange closes a pull request without merging it.
func (g *GitHub) CloseChange(ctx context.Context, r Repo, number int) (Change, error) {
	var p ghPull
	err := g.do(ctx, http.MethodPatch, fmt.Sprintf("%s/%d", pullsPath(r), number), map[string]any{"state": "closed"}, &p)
	return p.change(), err
}

// ChecksPassed reports whether every check run of a commit completed
// successfully (neutral and skipped count as passed); done is false while
// any is still running.
func (g *GitHub) ChecksPassed(ctx context.Context, r Repo, sha string) (done, passed bool, err error) {
	var out struct {
		CheckRuns []struct {
			Status     string `json:"status"`
			Conclusion string `json:"conclusion"`
		} `json:"check_runs"`
	}
	if err := g.do(ctx, http.MethodGet, "/repos/"+url.PathEscape(r.Owner)+"/"+url.PathEscape(r.Name)+"/commits/"+url.PathEscape(sha)+"/check-runs", nil, &out); err != nil {
		return false, false, err
	}
	passed = true
	for _, c := range out.CheckRuns {
		if c.Status != "completed" {
			return false, false, nil
		}
		switch c.Conclusion {
		case "success", "neutral", "skipped":
		default:
			passed = false
		}
	}
	return true, passed, nil
}

// GitHeader is the header git sends to push and clone: the token as basic
// authentication, only to URLs on the host's own web host.
func (g *GitHub) GitHeader(remoteURL string) string {
	if g.Token == "" || webHost(remoteURL) != g.webHost() {
		return ""
	}
	return basicAuth("x-access-token", g.Token)
}
