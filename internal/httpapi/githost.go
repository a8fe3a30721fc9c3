package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/internal/migratesvc"
	"backlot.dev/backlot/policies/permission"
	"backlot.dev/backlot/workflows/githost"
)

// GitHost is Backlot's local git host as the API shows it: its
// repositories and their change requests, which people merge or close here
// as they would on GitHub.
type GitHost interface {
	// Repos lists the repositories.
	Repos(ctx context.Context) ([]githost.Repo, error)
	// Changes lists a repository's change requests.
	Changes(ctx context.Context, owner, name string) ([]githost.Change, error)
	// Merge merges a change request; Close closes it without merging.
	Merge(ctx context.Context, owner, name string, number int) (githost.Change, error)
	Close(ctx context.Context, owner, name string, number int) (githost.Change, error)
}

// gitRoutes adds /api/git, the local git host.
func (s *server) gitRoutes(mux *http.ServeMux) {
	route := func(pattern string, a access, h handlerFunc) { s.route(mux, pattern, a, h) }
	route("GET /api/git/repos", need(permission.GitRepoRead, nil), s.gitRepos)
	route("POST /api/git/hooks/{host}", openTo(openHooks), s.changeHook)
	route("GET /api/git/repos/{owner}/{name}/changes", need(permission.GitRepoRead, pathResource("Repository", "owner", "name")), s.gitChanges)
	route("POST /api/git/repos/{owner}/{name}/changes/{number}/merge", need(permission.GitChangeMerge, pathResource("Change", "owner", "name", "number")), s.gitDecide(true))
	route("POST /api/git/repos/{owner}/{name}/changes/{number}/close", need(permission.GitChangeClose, pathResource("Change", "owner", "name", "number")), s.gitDecide(false))
}

func (s *server) gitHost() (GitHost, error) {
	if s.cfg.GitHost == nil {
		return nil, notImplemented("this server has no local git host")
	}
	return s.cfg.GitHost, nil
}

func (s *server) gitRepos(w http.ResponseWriter, r *http.Request) error {
	g, err := s.gitHost()
	if err != nil {
		return err
	}
	repos, err := g.Repos(r.Context())
	if err != nil {
		return err
	}
	if repos == nil {
		repos = []githost.Repo{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": repos})
	return nil
}

func (s *server) gitChanges(w http.ResponseWriter, r *http.Request) error {
	g, err := s.gitHost()
	if err != nil {
		return err
	}
	cs, err := g.Changes(r.Context(), r.PathValue("owner"), r.PathValue("name"))
	if err != nil {
		return err
	}
	if cs == nil {
		cs = []githost.Change{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": cs})
	return nil
}

func (s *server) gitDecide(merge bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		g, err := s.gitHost()
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(r.PathValue("number"))
		if err != nil || n <= 0 {
			return inputError("number: %q is not a change request number", r.PathValue("number"))
		}
		owner, name := r.PathValue("owner"), r.PathValue("name")
		var c githost.Change
		if merge {
			c, err = g.Merge(r.Context(), owner, name, n)
		} else {
			c, err = g.Close(r.Context(), owner, name, n)
		}
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, c)
		return nil
	}
}

// hookSecretEnv names the shared secret of the git hosts' webhooks.
const hookSecretEnv = "BACKLOT_WEBHOOK_SECRET"

// parseChangeHook reads a GitHub or GitLab webhook delivery: the pull or
// merge request it concerns, checked against secret when one is set
// (GitHub's X-Hub-Signature-256, GitLab's X-Gitlab-Token). ok is false for
// an event that concerns no change request.
func parseChangeHook(host string, h http.Header, body []byte, secret string) (migratesvc.ChangeHook, bool, error) {
	switch host {
	case "github":
		if secret != "" {
			mac := hmac.New(sha256.New, []byte(secret))
			mac.Write(body)
			want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
			if !hmac.Equal([]byte(h.Get("X-Hub-Signature-256")), []byte(want)) {
				return migratesvc.ChangeHook{}, false, categoryError(fault.Unauthenticated, "X-Hub-Signature-256 does not match the webhook secret")
			}
		}
		// A webhook set to application/x-www-form-urlencoded sends the JSON
		// as the payload field; the signature covers the form.
		if strings.HasPrefix(h.Get("Content-Type"), "application/x-www-form-urlencoded") {
			form, err := url.ParseQuery(string(body))
			if err != nil {
				return migratesvc.ChangeHook{}, false, inputError("the delivery is not a form: %v", err)
			}
			body = []byte(form.Get("payload"))
		}
		var p struct {
			Repository struct {
				FullName string `json:"full_name"`
			} `json:"repository"`
			Number      int `json:"number"`
			PullRequest struct {
				Number int `json:"number"`
			} `json:"pull_request"`
			CheckSuite struct {
				PullRequests []struct {
					Number int `json:"number"`
				} `json:"pull_requests"`
			} `json:"check_suite"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			return migratesvc.ChangeHook{}, false, inputError("the delivery is not JSON: %v", err)
		}
		n := p.PullRequest.Number
		if n == 0 {
			n = p.Number
		}
		if n == 0 && len(p.CheckSuite.PullRequests) > 0 {
			n = p.CheckSuite.PullRequests[0].Number
		}
		return migratesvc.ChangeHook{Repo: p.Repository.FullName, Number: n}, n > 0 && p.Repository.FullName != "", nil
	case "gitlab":
		if secret != "" && subtle.ConstantTimeCompare([]byte(h.Get("X-Gitlab-Token")), []byte(secret)) != 1 {
			return migratesvc.ChangeHook{}, false, categoryError(fault.Unauthenticated, "X-Gitlab-Token does not match the webhook secret")
		}
		var p struct {
			Project struct {
				Path string `json:"path_with_namespace"`
			} `json:"project"`
			Attrs struct {
				IID int `json:"iid"`
			} `json:"object_attributes"`
			MergeRequest struct {
				IID int `json:"iid"`
			} `json:"merge_request"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			return migratesvc.ChangeHook{}, false, inputError("the delivery is not JSON: %v", err)
		}
		n := p.Attrs.IID
		if h.Get("X-Gitlab-Event") == "Pipeline Hook" {
			n = p.MergeRequest.IID
		}
		return migratesvc.ChangeHook{Repo: p.Project.Path, Number: n}, n > 0 && p.Project.Path != "", nil
	}
	return migratesvc.ChangeHook{}, false, notFoundError("No webhook for host %q (github or gitlab)", host)
}

// changeHook answers POST /api/git/hooks/{host}: a git host's
// webhook, which wakes the migrations that follow the change request.
func (s *server) changeHook(w http.ResponseWriter, r *http.Request) error {
	secret := os.Getenv(hookSecretEnv)
	if secret == "" && s.cfg.RequireHookSecret {
		return categoryError(fault.Forbidden, "git webhooks are refused: set "+hookSecretEnv+" on the server and sign the deliveries with it (GitHub's webhook secret, GitLab's secret token)")
	}
	m, err := s.migrations()
	if err != nil {
		return err
	}
	// Read as it is: GitHub sends JSON or a form, GitLab JSON.
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		return err
	}
	hook, ok, err := parseChangeHook(r.PathValue("host"), r.Header, raw, secret)
	if err != nil {
		return err
	}
	if ok {
		if err := m.Wake(r.Context(), hook); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"woken": ok})
	return nil
}
