package githost

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// WithToken returns a copy of g that authenticates with token instead (an
// action's token input); "" returns g.
func (g *GitLab) WithToken(token string) *GitLab {
	if token == "" {
		return g
	}
	c := *g
	c.Token = token
	return &c
}

// EnsureGroup makes sure the group path (its parts from the top: acme,
// platform, tools) exists, creating each missing level under its parent,
// and returns the deepest group's id; existing groups are left as they are.
func (g *GitLab) EnsureGroup(ctx context.Context, path []string) (int, error) {
	if len(path) == 0 {
		return 0, errors.New("gitlab: an empty group path")
	}
	parent := 0
	for i, part := range path {
		full := strings.Join(path[:i+1], "/")
		var grp struct {
			ID int `json:"id"`
		}
		err := g.do(ctx, http.MethodGet, "/groups/"+url.PathEscape(full), nil, &grp)
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			body := map[string]any{"name": part, "path": part}
			if parent != 0 {
				body["parent_id"] = parent
			}
			err = g.do(ctx, http.MethodPost, "/groups", body, &grp)
		}
		if err != nil {
			return 0, fmt.Errorf("group %s: %w", full, err)
		}
		parent = grp.ID
	}
	return parent, nil
}

// MergeRequest is a merge request OpenMergeRequest opens.
type MergeRequest struct {
	Source, Target, Title, Description string
	RemoveSourceBranch                 bool
	// Assignee and Reviewers are user names.
	Assignee  string
	Reviewers []string
	Labels    string
}

// Project returns the project owner/name (groups may nest), with its id.
func (g *GitLab) Project(ctx context.Context, owner, name string) (Repo, int, error) {
	var p struct {
		glProject
		ID int `json:"id"`
	}
	if err := g.do(ctx, http.MethodGet, "/projects/"+project(owner, name), nil, &p); err != nil {
		return Repo{}, 0, fmt.Errorf("project %s/%s: %w", owner, name, err)
	}
	return p.glProject.repo(), p.ID, nil
}

// userID returns the id of the user named username.
func (g *GitLab) userID(ctx context.Context, username string) (int, error) {
	var users []struct {
		ID int `json:"id"`
	}
	if err := g.do(ctx, http.MethodGet, "/users?username="+url.QueryEscape(username), nil, &users); err != nil {
		return 0, err
	}
	if len(users) == 0 {
		return 0, fmt.Errorf("gitlab: no user %q", username)
	}
	return users[0].ID, nil
}

// OpenMergeRequest opens a merge request of m.Source into m.Target, or
// returns the open one of that source branch.
func (g *GitLab) OpenMergeRequest(ctx context.Context, r Repo, m MergeRequest) (Change, error) {
	var open []glMR
	q := url.Values{"state": {"opened"}, "source_branch": {m.Source}}
	if err := g.do(ctx, http.MethodGet, mrPath(r)+"?"+q.Encode(), nil, &open); err != nil {
		return Change{}, err
	}
	if len(open) > 0 {
		return open[0].change(), nil
	}
	body := map[string]any{"source_branch": m.Source, "target_branch": m.Target, "title": m.Title, "description": m.Description,
		"remove_source_branch": m.RemoveSourceBranch}
	if m.Labels != "" {
		body["labels"] = m.Labels
	}
	if m.Assignee != "" {
		id, err := g.userID(ctx, m.Assignee)
		if err != nil {
			return Change{}, err
		}
		body["assignee_id"] = id
	}
	var ids []int
	for _, u := range m.Reviewers {
		id, err := g.userID(ctx, u)
		if err != nil {
			return Change{}, err
		}
		ids = append(ids, id)
	}
	if ids != nil {
		body["reviewer_ids"] = ids
	}
	var mr glMR
	err := g.do(ctx, http.MethodPost, mrPath(r), body, &mr)
	return mr.change(), err
}
