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
	"strings"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/internal/migratesvc"
	"backlot.dev/backlot/workflows/migration"
)

// Migrations runs fleet migrations (package migratesvc on Temporal).
type Migrations interface {
	// Start parses, validates and starts the migration spec (YAML or JSON) as
	// actor; with dryRun it answers the targets and each repository's diff
	// and pushes nothing. The answer is what POST /api/migrations returns.
	Start(ctx context.Context, actor string, spec []byte, dryRun bool) (any, error)
	// List lists the migrations, newest first, without their target rows.
	List(ctx context.Context) ([]migration.Report, error)
	// Get answers one migration's progress.
	Get(ctx context.Context, id string) (migration.Report, error)
	// Control pauses, resumes, cancels, retries the failed targets of, or
	// closes the change requests of a migration (op is pause, resume,
	// cancel, retry-failed or close-prs).
	Control(ctx context.Context, actor, id, op string) error
	// Wake tells the running migrations that a change request changed, so
	// the ones that follow it read it now instead of at their next poll.
	Wake(ctx context.Context, h migratesvc.ChangeHook) error
}

// migrationRoutes adds /api/migrations.
func (s *server) migrationRoutes(mux *http.ServeMux) {
	route := func(pattern string, h handlerFunc) { mux.Handle(pattern, s.handle(h)) }
	route("POST /api/migrations", s.startMigration)
	route("GET /api/migrations", s.listMigrations)
	route("GET /api/migrations/{id}", s.getMigration)
	route("POST /api/git/hooks/{host}", s.changeHook)
	for _, op := range []string{"pause", "resume", "cancel", "retry-failed", "close-prs"} {
		route("POST /api/migrations/{id}/"+op, s.controlMigration(op))
	}
}

func (s *server) migrations() (Migrations, error) {
	if s.cfg.Migrations == nil {
		return nil, categoryError(fault.Unavailable, "this server runs no workflows: start backlot dev, or backlot serve with BACKLOT_TEMPORAL_ADDRESS")
	}
	return s.cfg.Migrations, nil
}

// startMigration answers POST /api/migrations[?dryRun=true] with a spec as
// JSON (or YAML) body.
func (s *server) startMigration(w http.ResponseWriter, r *http.Request) error {
	m, err := s.migrations()
	if err != nil {
		return err
	}
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	dry, err := parseBool(q, "dryRun")
	if err != nil {
		return err
	}
	raw, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	out, err := m.Start(r.Context(), s.actor(r), raw, dry)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if dry {
		status = http.StatusOK
	}
	writeJSON(w, status, out)
	return nil
}

func (s *server) listMigrations(w http.ResponseWriter, r *http.Request) error {
	m, err := s.migrations()
	if err != nil {
		return err
	}
	list, err := m.List(r.Context())
	if err != nil {
		return err
	}
	if list == nil {
		list = []migration.Report{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func (s *server) getMigration(w http.ResponseWriter, r *http.Request) error {
	m, err := s.migrations()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	rep, err := m.Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (s *server) controlMigration(op string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		m, err := s.migrations()
		if err != nil {
			return err
		}
		id := r.PathValue("id")
		if err := m.Control(r.Context(), s.actor(r), id, op); err != nil {
			return err
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"id": id, "requested": op})
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
	m, err := s.migrations()
	if err != nil {
		return err
	}
	// Read as it is: GitHub sends JSON or a form, GitLab JSON.
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		return err
	}
	hook, ok, err := parseChangeHook(r.PathValue("host"), r.Header, raw, os.Getenv(hookSecretEnv))
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
