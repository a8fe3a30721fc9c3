package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"

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
	route := func(pattern string, h handlerFunc) { mux.Handle(pattern, s.handle(h)) }
	route("GET /api/git/repos", s.gitRepos)
	route("GET /api/git/repos/{owner}/{name}/changes", s.gitChanges)
	route("POST /api/git/repos/{owner}/{name}/changes/{number}/merge", s.gitDecide(true))
	route("POST /api/git/repos/{owner}/{name}/changes/{number}/close", s.gitDecide(false))
}

func (s *server) gitHost() (GitHost, error) {
	if s.cfg.GitHost == nil {
		return nil, notImplemented("this server has no local git host")
	}
	return s.cfg.GitHost, nil
}

func gitError(err error) error {
	if errors.Is(err, githost.ErrNotFound) {
		return notFoundError("%v", err)
	}
	return err
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
		return gitError(err)
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
			return gitError(err)
		}
		writeJSON(w, http.StatusOK, c)
		return nil
	}
}
