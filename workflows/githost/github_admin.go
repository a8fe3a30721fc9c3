package githost

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"

	"golang.org/x/crypto/nacl/box"
)

// WebURLOf returns the web address of repository owner/name on the host.
func (g *GitHub) WebURLOf(owner, name string) string {
	return "https://" + g.webHost() + "/" + owner + "/" + name
}

// WithToken returns a copy of g that authenticates with token instead (an
// action's token input); "" returns g.
func (g *GitHub) WithToken(token string) *GitHub {
	if token == "" {
		return g
	}
	c := *g
	c.Token = token
	return &c
}

func repoAPI(owner, name string) string {
	return "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name)
}

// RepoOptions are the settings of a repository github:repo:create makes.
type RepoOptions struct {
	Description, Homepage string
	// Visibility is private (default), internal or public.
	Visibility string
	// Settings are more fields of GitHub's repository object
	// (has_wiki, allow_squash_merge, delete_branch_on_merge, …), sent as
	// they are when the repository is created and when it is found.
	Settings map[string]any
	// Topics replace the repository's topics when set.
	Topics []string
}

// CreateRepoWith creates owner/name with opts, in the organization owner or,
// when owner is a user, as the authenticated user's; a repository already
// there is found and brought to opts (its settings and topics), so a retry
// answers the same. created reports whether this call made it.
func (g *GitHub) CreateRepoWith(ctx context.Context, owner, name string, opts RepoOptions) (r Repo, created bool, err error) {
	body := map[string]any{"name": name, "description": opts.Description, "homepage": opts.Homepage}
	switch opts.Visibility {
	case "", "private":
		body["private"] = true
	case "public":
		body["private"] = false
	default:
		body["visibility"] = opts.Visibility
	}
	for k, v := range opts.Settings {
		body[k] = v
	}
	var owned struct {
		Type string `json:"type"`
	}
	create := "/orgs/" + url.PathEscape(owner) + "/repos"
	if err := g.do(ctx, http.MethodGet, "/users/"+url.PathEscape(owner), nil, &owned); err == nil && owned.Type == "User" {
		create = "/user/repos"
	}
	var gr ghRepo
	err = g.do(ctx, http.MethodPost, create, body, &gr)
	created = err == nil
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusUnprocessableEntity {
		// Taken: the repository of an earlier attempt; bring it to opts.
		delete(body, "name")
		err = g.do(ctx, http.MethodPatch, repoAPI(owner, name), body, &gr)
	}
	if err != nil {
		return Repo{}, false, err
	}
	if opts.Topics != nil {
		if err := g.do(ctx, http.MethodPut, repoAPI(owner, name)+"/topics", map[string]any{"names": opts.Topics}, nil); err != nil {
			return Repo{}, created, err
		}
	}
	return gr.repo(), created, nil
}

// BranchProtection is what ProtectBranch requires of a branch.
type BranchProtection struct {
	RequireCodeOwnerReviews      bool
	RequiredApprovingReviewCount int
	RequiredStatusCheckContexts  []string
	EnforceAdmins                bool
}

// ProtectBranch sets the protection of a branch (a PUT: a retry sets the same).
func (g *GitHub) ProtectBranch(ctx context.Context, owner, name, branch string, p BranchProtection) error {
	var checks any
	if p.RequiredStatusCheckContexts != nil {
		checks = map[string]any{"strict": true, "contexts": p.RequiredStatusCheckContexts}
	}
	return g.do(ctx, http.MethodPut, repoAPI(owner, name)+"/branches/"+url.PathEscape(branch)+"/protection", map[string]any{
		"required_status_checks": checks, "enforce_admins": p.EnforceAdmins, "restrictions": nil,
		"required_pull_request_reviews": map[string]any{"require_code_owner_reviews": p.RequireCodeOwnerReviews,
			"required_approving_review_count": p.RequiredApprovingReviewCount},
	}, nil)
}

// PullRequest is a pull request OpenPullRequest opens.
type PullRequest struct {
	Head, Base, Title, Body  string
	Draft                    bool
	Reviewers, TeamReviewers []string
}

// OpenPullRequest opens a pull request of pr.Head into pr.Base, or returns
// the open one of that head, and requests its reviewers.
func (g *GitHub) OpenPullRequest(ctx context.Context, owner, name string, pr PullRequest) (Change, error) {
	r := Repo{Owner: owner, Name: name}
	var open []ghPull
	q := url.Values{"state": {"open"}, "head": {owner + ":" + pr.Head}}
	if err := g.do(ctx, http.MethodGet, pullsPath(r)+"?"+q.Encode(), nil, &open); err != nil {
		return Change{}, err
	}
	var p ghPull
	if len(open) > 0 {
		p = open[0]
	} else if err := g.do(ctx, http.MethodPost, pullsPath(r), map[string]any{"title": pr.Title, "body": pr.Body, "head": pr.Head,
		"base": pr.Base, "draft": pr.Draft}, &p); err != nil {
		return Change{}, err
	}
	if len(pr.Reviewers)+len(pr.TeamReviewers) > 0 {
		if err := g.do(ctx, http.MethodPost, fmt.Sprintf("%s/%d/requested_reviewers", pullsPath(r), p.Number),
			map[string]any{"reviewers": nonNil(pr.Reviewers), "team_reviewers": nonNil(pr.TeamReviewers)}, nil); err != nil {
			return p.change(), err
		}
	}
	return p.change(), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Pages is the GitHub Pages site of a repository.
type Pages struct {
	BuildType string `json:"build_type"`
	Source    struct {
		Branch string `json:"branch"`
		Path   string `json:"path"`
	} `json:"source"`
	HTMLURL string `json:"html_url"`
}

// EnablePages turns GitHub Pages on (buildType legacy or workflow, from
// branch and path), or, when it is on, brings it to these settings.
func (g *GitHub) EnablePages(ctx context.Context, owner, name, buildType, branch, path string) (Pages, error) {
	body := map[string]any{"build_type": buildType, "source": map[string]any{"branch": branch, "path": path}}
	var p Pages
	err := g.do(ctx, http.MethodPost, repoAPI(owner, name)+"/pages", body, &p)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusConflict {
		if err := g.do(ctx, http.MethodGet, repoAPI(owner, name)+"/pages", nil, &p); err != nil {
			return p, err
		}
		if p.BuildType == buildType && p.Source.Branch == branch && p.Source.Path == path {
			return p, nil
		}
		if err := g.do(ctx, http.MethodPut, repoAPI(owner, name)+"/pages", body, nil); err != nil {
			return p, err
		}
		return p, g.do(ctx, http.MethodGet, repoAPI(owner, name)+"/pages", nil, &p)
	}
	return p, err
}

// DispatchWorkflow starts a workflow_dispatch run of a GitHub Actions
// workflow (its id or file name) on ref with inputs. GitHub answers no run
// id, so the call is not idempotent by itself: callers keep a record.
func (g *GitHub) DispatchWorkflow(ctx context.Context, owner, name, workflow, ref string, inputs map[string]any) error {
	body := map[string]any{"ref": ref}
	if len(inputs) > 0 {
		body["inputs"] = inputs
	}
	return g.do(ctx, http.MethodPost, repoAPI(owner, name)+"/actions/workflows/"+url.PathEscape(workflow)+"/dispatches", body, nil)
}

// Webhook is a repository webhook.
type Webhook struct {
	URL, Secret, ContentType string
	Events                   []string
	Active, InsecureSSL      bool
}

// EnsureWebhook creates the repository webhook to w.URL, or brings the one
// there to w's settings: one hook per URL however often it runs. It answers
// the hook's id and whether this call created it.
func (g *GitHub) EnsureWebhook(ctx context.Context, owner, name string, w Webhook) (int64, bool, error) {
	insecure := "0"
	if w.InsecureSSL {
		insecure = "1"
	}
	cfg := map[string]any{"url": w.URL, "content_type": w.ContentType, "insecure_ssl": insecure}
	if w.Secret != "" {
		cfg["secret"] = w.Secret
	}
	body := map[string]any{"name": "web", "config": cfg, "events": w.Events, "active": w.Active}
	var hooks []struct {
		ID     int64 `json:"id"`
		Config struct {
			URL string `json:"url"`
		} `json:"config"`
	}
	if err := g.do(ctx, http.MethodGet, repoAPI(owner, name)+"/hooks?per_page=100", nil, &hooks); err != nil {
		return 0, false, err
	}
	for _, h := range hooks {
		if h.Config.URL == w.URL {
			return h.ID, false, g.do(ctx, http.MethodPatch, fmt.Sprintf("%s/hooks/%d", repoAPI(owner, name), h.ID), body, nil)
		}
	}
	var h struct {
		ID int64 `json:"id"`
	}
	err := g.do(ctx, http.MethodPost, repoAPI(owner, name)+"/hooks", body, &h)
	return h.ID, err == nil, err
}

// Environment is a deployment environment github:environment:create makes.
type Environment struct {
	Name string
	// WaitTimer is minutes to wait before a deployment; PreventSelfReview
	// and Reviewers ({type: User|Team, id}) gate it.
	WaitTimer         int
	PreventSelfReview bool
	Reviewers         []map[string]any
	// ProtectedBranches or custom policies (CustomBranches, CustomTags)
	// decide which refs may deploy; both false: any.
	ProtectedBranches, CustomPolicies bool
	CustomBranches, CustomTags        []string
	// Variables and Secrets are set on the environment; secrets are sealed
	// with the repository's public key before they leave the process.
	Variables, Secrets map[string]string
}

// EnsureEnvironment creates or updates the environment (a PUT), adds its
// custom deployment policies that are missing, and sets its variables and
// secrets: a retry changes nothing more.
func (g *GitHub) EnsureEnvironment(ctx context.Context, owner, name string, e Environment) error {
	env := repoAPI(owner, name) + "/environments/" + url.PathEscape(e.Name)
	body := map[string]any{"wait_timer": e.WaitTimer, "prevent_self_review": e.PreventSelfReview, "reviewers": e.Reviewers,
		"deployment_branch_policy": nil}
	if e.ProtectedBranches || e.CustomPolicies {
		body["deployment_branch_policy"] = map[string]any{"protected_branches": e.ProtectedBranches, "custom_branch_policies": e.CustomPolicies}
	}
	if err := g.do(ctx, http.MethodPut, env, body, nil); err != nil {
		return err
	}
	if e.CustomPolicies && len(e.CustomBranches)+len(e.CustomTags) > 0 {
		var have struct {
			Policies []struct {
				Name string `json:"name"`
				Type string `json:"type"`
			} `json:"branch_policies"`
		}
		if err := g.do(ctx, http.MethodGet, env+"/deployment-branch-policies?per_page=100", nil, &have); err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, p := range have.Policies {
			seen[p.Type+":"+p.Name] = true
		}
		for typ, names := range map[string][]string{"branch": e.CustomBranches, "tag": e.CustomTags} {
			for _, n := range names {
				if seen[typ+":"+n] {
					continue
				}
				if err := g.do(ctx, http.MethodPost, env+"/deployment-branch-policies", map[string]any{"name": n, "type": typ}, nil); err != nil {
					return err
				}
			}
		}
	}
	for _, k := range sortedKeys(e.Variables) {
		err := g.do(ctx, http.MethodPatch, env+"/variables/"+url.PathEscape(k), map[string]any{"name": k, "value": e.Variables[k]}, nil)
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			err = g.do(ctx, http.MethodPost, env+"/variables", map[string]any{"name": k, "value": e.Variables[k]}, nil)
		}
		if err != nil {
			return err
		}
	}
	if len(e.Secrets) > 0 {
		var key struct {
			KeyID string `json:"key_id"`
			Key   string `json:"key"`
		}
		if err := g.do(ctx, http.MethodGet, env+"/secrets/public-key", nil, &key); err != nil {
			return err
		}
		raw, err := base64.StdEncoding.DecodeString(key.Key)
		if err != nil || len(raw) != 32 {
			return fmt.Errorf("github: environment %s: the public key is not a 32-byte key", e.Name)
		}
		var pub [32]byte
		copy(pub[:], raw)
		for _, k := range sortedKeys(e.Secrets) {
			sealed, err := box.SealAnonymous(nil, []byte(e.Secrets[k]), &pub, rand.Reader)
			if err != nil {
				return err
			}
			if err := g.do(ctx, http.MethodPut, env+"/secrets/"+url.PathEscape(k), map[string]any{
				"encrypted_value": base64.StdEncoding.EncodeToString(sealed), "key_id": key.KeyID}, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
