package githosttest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Repo is a repository (a GitHub repository or a GitLab project) as the
// fake holds it.
type Repo struct {
	Owner, Name string
	ID          int
	// Settings are the fields the API was sent when the repository was
	// created or edited (private, description, has_wiki, …).
	Settings map[string]any
	Topics   []string
	// Pages is the GitHub Pages site, nil while off.
	Pages map[string]any
	// Hooks are the webhooks, each with its id, config, events and active.
	Hooks []map[string]any
	// Dispatches are the workflow_dispatch runs started: workflow, ref and
	// inputs.
	Dispatches []map[string]any
	// Environments by name: the PUT body, its "variables", "secrets" (the
	// sealed values) and "policies".
	Environments map[string]map[string]any
	// Protection by branch: the last PUT body.
	Protection map[string]map[string]any
}

// Change is a pull or merge request.
type Change struct {
	Repo   string
	Number int
	Body   map[string]any
	// Reviewers requested on it.
	Reviewers []string
}

// Fake serves, on one loopback listener, the part of GitHub's REST API
// (under /) and GitLab's (under /api/v4) that Backlot's hosts and actions
// call, and real git over HTTP (git http-backend, under /git/) for the
// repositories it holds. Requests without the token are refused. It is safe
// for concurrent use.
type Fake struct {
	// URL is the server's address: GitHub's BaseURL, and GitLab's.
	URL string
	// Root holds the bare repositories, Root/<owner>/<name>.git.
	Root string
	// Token is what requests must carry.
	Token string
	// SecretsKey is the environment secrets' key pair's public half, as
	// GitHub answers it (base64).
	SecretsKey string

	mu      sync.Mutex
	repos   map[string]*Repo
	changes []*Change
	groups  map[string]int
	users   map[string]string
	calls   []string
	nextID  int
}

// New starts a fake whose token is token; users maps GitHub logins to their
// type (User or Organization; an owner not listed is an organization).
// t.Cleanup stops it.
func New(t testing.TB, token string, users map[string]string) *Fake {
	t.Helper()
	f := &Fake{Root: t.TempDir(), Token: token, repos: map[string]*Repo{}, groups: map[string]int{}, users: users, nextID: 100,
		SecretsKey: base64.StdEncoding.EncodeToString(make([]byte, 32))}
	if f.users == nil {
		f.users = map[string]string{}
	}
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	f.github(mux)
	f.gitlab(mux)
	backend := &cgi.Handler{Path: gitPath, Args: []string{"http-backend"}, Env: []string{
		"GIT_PROJECT_ROOT=" + f.Root, "GIT_HTTP_EXPORT_ALL=1",
		"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.receivepack", "GIT_CONFIG_VALUE_0=true"}}
	mux.Handle("/git/", http.StripPrefix("/git", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := false
		for _, user := range []string{"x-access-token", "oauth2"} {
			ok = ok || r.Header.Get("Authorization") == "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+f.Token))
		}
		if !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	})))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/git/") {
			if r.Header.Get("Authorization") != "Bearer "+f.Token && r.Header.Get("PRIVATE-TOKEN") != f.Token {
				write(w, http.StatusUnauthorized, map[string]any{"message": "Bad credentials"})
				return
			}
			f.mu.Lock()
			f.calls = append(f.calls, r.Method+" "+r.URL.Path)
			f.mu.Unlock()
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func write(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if v != nil {
		json.NewEncoder(w).Encode(v)
	}
}

func decode(r *http.Request) map[string]any {
	var m map[string]any
	json.NewDecoder(r.Body).Decode(&m)
	if m == nil {
		m = map[string]any{}
	}
	return m
}

// Calls returns the API requests made so far ("POST /orgs/acme/repos"),
// in order.
func (f *Fake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// Count returns how many API requests were "METHOD path".
func (f *Fake) Count(call string) int {
	n := 0
	for _, c := range f.Calls() {
		if c == call {
			n++
		}
	}
	return n
}

// Repo returns a copy of the repository owner/name, or nil.
func (f *Fake) Repo(owner, name string) *Repo {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.repos[owner+"/"+name]
	if r == nil {
		return nil
	}
	var out Repo
	raw, _ := json.Marshal(r)
	json.Unmarshal(raw, &out)
	return &out
}

// Changes returns copies of the pull and merge requests.
func (f *Fake) Changes() []Change {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Change
	raw, _ := json.Marshal(f.changes)
	json.Unmarshal(raw, &out)
	return out
}

// GitDir returns the bare repository of owner/name on disk.
func (f *Fake) GitDir(owner, name string) string {
	return filepath.Join(f.Root, filepath.FromSlash(owner), name+".git")
}

// Show returns the content of file at rev of owner/name, read with git.
func (f *Fake) Show(owner, name, rev, file string) (string, error) {
	out, err := exec.Command("git", "--git-dir", f.GitDir(owner, name), "show", rev+":"+file).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("git show %s:%s: %v: %s", rev, file, err, out)
	}
	return string(out), nil
}

// AddRepo creates owner/name with a first commit of files on main, as if
// it had been there before.
func (f *Fake) AddRepo(t testing.TB, owner, name string, files map[string]string) {
	t.Helper()
	f.mu.Lock()
	f.create(owner, name, map[string]any{})
	f.mu.Unlock()
	work := t.TempDir()
	for p, c := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(work, p)), 0o755)
		os.WriteFile(filepath.Join(work, p), []byte(c), 0o644)
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"-c", "user.name=t", "-c", "user.email=t@x", "commit", "-q", "-m", "first"},
		{"push", "-q", f.GitDir(owner, name), "main"}} {
		if out, err := exec.Command("git", append([]string{"-C", work}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
}

// create makes the bare repository and its record; f.mu is held.
func (f *Fake) create(owner, name string, settings map[string]any) *Repo {
	dir := f.GitDir(owner, name)
	os.MkdirAll(filepath.Dir(dir), 0o755)
	exec.Command("git", "init", "-q", "--bare", "-b", "main", dir).Run()
	f.nextID++
	r := &Repo{Owner: owner, Name: name, ID: f.nextID, Settings: settings, Environments: map[string]map[string]any{}, Protection: map[string]map[string]any{}}
	f.repos[owner+"/"+name] = r
	return r
}

func (f *Fake) cloneURL(r *Repo) string { return f.URL + "/git/" + r.Owner + "/" + r.Name + ".git" }

func (f *Fake) ghRepo(r *Repo) map[string]any {
	return map[string]any{"id": r.ID, "name": r.Name, "owner": map[string]any{"login": r.Owner}, "clone_url": f.cloneURL(r),
		"html_url": f.URL + "/" + r.Owner + "/" + r.Name, "default_branch": "main", "description": r.Settings["description"]}
}

// handle registers a handler that runs under the fake's lock.
func (f *Fake) handle(mux *http.ServeMux, pattern string, h func(w http.ResponseWriter, r *http.Request)) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		h(w, r)
	})
}

func (f *Fake) github(mux *http.ServeMux) {
	repoOf := func(w http.ResponseWriter, r *http.Request) *Repo {
		repo := f.repos[r.PathValue("o")+"/"+r.PathValue("r")]
		if repo == nil {
			write(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
		}
		return repo
	}
	createRepo := func(owner string) func(w http.ResponseWriter, r *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			in := decode(r)
			if owner == "" {
				owner = r.PathValue("org")
			}
			name, _ := in["name"].(string)
			if f.repos[owner+"/"+name] != nil {
				write(w, http.StatusUnprocessableEntity, map[string]any{"message": "Repository creation failed: name already exists on this account"})
				return
			}
			write(w, http.StatusCreated, f.ghRepo(f.create(owner, name, in)))
		}
	}
	f.handle(mux, "POST /orgs/{org}/repos", createRepo(""))
	f.handle(mux, "POST /user/repos", func(w http.ResponseWriter, r *http.Request) {
		for login, typ := range f.users {
			if typ == "User" {
				createRepo(login)(w, r)
				return
			}
		}
		write(w, http.StatusForbidden, map[string]any{"message": "no user"})
	})
	f.handle(mux, "GET /users/{u}", func(w http.ResponseWriter, r *http.Request) {
		typ := f.users[r.PathValue("u")]
		if typ == "" {
			typ = "Organization"
		}
		write(w, http.StatusOK, map[string]any{"login": r.PathValue("u"), "type": typ})
	})
	f.handle(mux, "GET /repos/{o}/{r}", func(w http.ResponseWriter, r *http.Request) {
		if repo := repoOf(w, r); repo != nil {
			write(w, http.StatusOK, f.ghRepo(repo))
		}
	})
	f.handle(mux, "PATCH /repos/{o}/{r}", func(w http.ResponseWriter, r *http.Request) {
		if repo := repoOf(w, r); repo != nil {
			for k, v := range decode(r) {
				repo.Settings[k] = v
			}
			write(w, http.StatusOK, f.ghRepo(repo))
		}
	})
	f.handle(mux, "PUT /repos/{o}/{r}/topics", func(w http.ResponseWriter, r *http.Request) {
		if repo := repoOf(w, r); repo != nil {
			repo.Topics = nil
			for _, t := range decode(r)["names"].([]any) {
				repo.Topics = append(repo.Topics, t.(string))
			}
			write(w, http.StatusOK, map[string]any{"names": repo.Topics})
		}
	})
	f.handle(mux, "PUT /repos/{o}/{r}/branches/{b}/protection", func(w http.ResponseWriter, r *http.Request) {
		if repo := repoOf(w, r); repo != nil {
			repo.Protection[r.PathValue("b")] = decode(r)
			write(w, http.StatusOK, map[string]any{})
		}
	})
	f.handle(mux, "GET /repos/{o}/{r}/pulls", func(w http.ResponseWriter, r *http.Request) {
		out := []map[string]any{}
		key := r.PathValue("o") + "/" + r.PathValue("r")
		for _, c := range f.changes {
			if c.Repo == key && c.Body["state"] == r.URL.Query().Get("state") && r.PathValue("o")+":"+c.Body["head"].(map[string]any)["ref"].(string) == r.URL.Query().Get("head") {
				out = append(out, c.Body)
			}
		}
		write(w, http.StatusOK, out)
	})
	f.handle(mux, "POST /repos/{o}/{r}/pulls", func(w http.ResponseWriter, r *http.Request) {
		repo := repoOf(w, r)
		if repo == nil {
			return
		}
		in := decode(r)
		n := len(f.changes) + 1
		head, _ := in["head"].(string)
		if out, err := exec.Command("git", "--git-dir", f.GitDir(repo.Owner, repo.Name), "rev-parse", "refs/heads/"+head).Output(); err != nil {
			write(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed: no branch " + head})
			return
		} else {
			head := map[string]any{"ref": head, "sha": strings.TrimSpace(string(out))}
			body := map[string]any{"number": n, "state": "open", "title": in["title"], "body": in["body"], "draft": in["draft"], "merged": false,
				"html_url": f.URL + "/" + repo.Owner + "/" + repo.Name + "/pull/" + strconv.Itoa(n), "head": head, "base": map[string]any{"ref": in["base"]}}
			f.changes = append(f.changes, &Change{Repo: repo.Owner + "/" + repo.Name, Number: n, Body: body})
			write(w, http.StatusCreated, body)
		}
	})
	f.handle(mux, "POST /repos/{o}/{r}/pulls/{n}/requested_reviewers", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n < 1 || n > len(f.changes) {
			write(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
			return
		}
		c := f.changes[n-1]
		in := decode(r)
		for _, k := range []string{"reviewers", "team_reviewers"} {
			list, _ := in[k].([]any)
			for _, u := range list {
				s := u.(string)
				if k == "team_reviewers" {
					s = "team:" + s
				}
				dup := false
				for _, have := range c.Reviewers {
					dup = dup || have == s
				}
				if !dup {
					c.Reviewers = append(c.Reviewers, s)
				}
			}
		}
		write(w, http.StatusCreated, c.Body)
	})
	f.handle(mux, "POST /repos/{o}/{r}/pages", func(w http.ResponseWriter, r *http.Request) {
		repo := repoOf(w, r)
		if repo == nil {
			return
		}
		if repo.Pages != nil {
			write(w, http.StatusConflict, map[string]any{"message": "GitHub Pages is already enabled."})
			return
		}
		repo.Pages = decode(r)
		repo.Pages["html_url"] = "https://" + repo.Owner + ".github.example/" + repo.Name + "/"
		write(w, http.StatusCreated, repo.Pages)
	})
	f.handle(mux, "GET /repos/{o}/{r}/pages", func(w http.ResponseWriter, r *http.Request) {
		if repo := repoOf(w, r); repo != nil && repo.Pages != nil {
			write(w, http.StatusOK, repo.Pages)
		} else if repo != nil {
			write(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
		}
	})
	f.handle(mux, "PUT /repos/{o}/{r}/pages", func(w http.ResponseWriter, r *http.Request) {
		if repo := repoOf(w, r); repo != nil {
			url := repo.Pages["html_url"]
			repo.Pages = decode(r)
			repo.Pages["html_url"] = url
			write(w, http.StatusNoContent, nil)
		}
	})
	f.handle(mux, "POST /repos/{o}/{r}/actions/workflows/{id}/dispatches", func(w http.ResponseWriter, r *http.Request) {
		if repo := repoOf(w, r); repo != nil {
			in := decode(r)
			in["workflow"] = r.PathValue("id")
			repo.Dispatches = append(repo.Dispatches, in)
			write(w, http.StatusNoContent, nil)
		}
	})
	f.handle(mux, "GET /repos/{o}/{r}/hooks", func(w http.ResponseWriter, r *http.Request) {
		if repo := repoOf(w, r); repo != nil {
			out := []map[string]any{}
			out = append(out, repo.Hooks...)
			write(w, http.StatusOK, out)
		}
	})
	f.handle(mux, "POST /repos/{o}/{r}/hooks", func(w http.ResponseWriter, r *http.Request) {
		if repo := repoOf(w, r); repo != nil {
			in := decode(r)
			f.nextID++
			in["id"] = f.nextID
			repo.Hooks = append(repo.Hooks, in)
			write(w, http.StatusCreated, in)
		}
	})
	f.handle(mux, "PATCH /repos/{o}/{r}/hooks/{id}", func(w http.ResponseWriter, r *http.Request) {
		if repo := repoOf(w, r); repo != nil {
			id, _ := strconv.Atoi(r.PathValue("id"))
			for i, h := range repo.Hooks {
				if h["id"] == id || h["id"] == float64(id) {
					in := decode(r)
					in["id"] = id
					repo.Hooks[i] = in
					write(w, http.StatusOK, in)
					return
				}
			}
			write(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
		}
	})
	envOf := func(w http.ResponseWriter, r *http.Request) map[string]any {
		repo := repoOf(w, r)
		if repo == nil {
			return nil
		}
		e := repo.Environments[r.PathValue("env")]
		if e == nil {
			write(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
		}
		return e
	}
	f.handle(mux, "PUT /repos/{o}/{r}/environments/{env}", func(w http.ResponseWriter, r *http.Request) {
		if repo := repoOf(w, r); repo != nil {
			e := repo.Environments[r.PathValue("env")]
			if e == nil {
				e = map[string]any{"variables": map[string]any{}, "secrets": map[string]any{}, "policies": []any{}}
				repo.Environments[r.PathValue("env")] = e
			}
			e["settings"] = decode(r)
			write(w, http.StatusOK, map[string]any{"name": r.PathValue("env")})
		}
	})
	f.handle(mux, "GET /repos/{o}/{r}/environments/{env}/deployment-branch-policies", func(w http.ResponseWriter, r *http.Request) {
		if e := envOf(w, r); e != nil {
			write(w, http.StatusOK, map[string]any{"branch_policies": e["policies"]})
		}
	})
	f.handle(mux, "POST /repos/{o}/{r}/environments/{env}/deployment-branch-policies", func(w http.ResponseWriter, r *http.Request) {
		if e := envOf(w, r); e != nil {
			in := decode(r)
			e["policies"] = append(e["policies"].([]any), in)
			write(w, http.StatusOK, in)
		}
	})
	f.handle(mux, "POST /repos/{o}/{r}/environments/{env}/variables", func(w http.ResponseWriter, r *http.Request) {
		if e := envOf(w, r); e != nil {
			in := decode(r)
			vars := e["variables"].(map[string]any)
			if _, ok := vars[in["name"].(string)]; ok {
				write(w, http.StatusConflict, map[string]any{"message": "Already exists"})
				return
			}
			vars[in["name"].(string)] = in["value"]
			write(w, http.StatusCreated, map[string]any{})
		}
	})
	f.handle(mux, "PATCH /repos/{o}/{r}/environments/{env}/variables/{name}", func(w http.ResponseWriter, r *http.Request) {
		if e := envOf(w, r); e != nil {
			vars := e["variables"].(map[string]any)
			if _, ok := vars[r.PathValue("name")]; !ok {
				write(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
				return
			}
			vars[r.PathValue("name")] = decode(r)["value"]
			write(w, http.StatusNoContent, nil)
		}
	})
	f.handle(mux, "GET /repos/{o}/{r}/environments/{env}/secrets/public-key", func(w http.ResponseWriter, r *http.Request) {
		if e := envOf(w, r); e != nil {
			write(w, http.StatusOK, map[string]any{"key_id": "key-1", "key": f.SecretsKey})
		}
	})
	f.handle(mux, "PUT /repos/{o}/{r}/environments/{env}/secrets/{name}", func(w http.ResponseWriter, r *http.Request) {
		if e := envOf(w, r); e != nil {
			e["secrets"].(map[string]any)[r.PathValue("name")] = decode(r)
			write(w, http.StatusCreated, map[string]any{})
		}
	})
}

func (f *Fake) gitlab(mux *http.ServeMux) {
	const api = "/api/v4"
	glProject := func(r *Repo) map[string]any {
		return map[string]any{"id": r.ID, "path": r.Name, "name": r.Name, "namespace": map[string]any{"full_path": r.Owner},
			"path_with_namespace": r.Owner + "/" + r.Name, "http_url_to_repo": f.cloneURL(r), "default_branch": "main",
			"web_url": f.URL + "/" + r.Owner + "/" + r.Name, "description": r.Settings["description"]}
	}
	projectOf := func(w http.ResponseWriter, r *http.Request) *Repo {
		id := r.PathValue("id")
		for _, repo := range f.repos {
			if repo.Owner+"/"+repo.Name == id || strconv.Itoa(repo.ID) == id {
				return repo
			}
		}
		write(w, http.StatusNotFound, map[string]any{"message": "404 Project Not Found"})
		return nil
	}
	f.handle(mux, "GET "+api+"/projects/{id}", func(w http.ResponseWriter, r *http.Request) {
		if repo := projectOf(w, r); repo != nil {
			write(w, http.StatusOK, glProject(repo))
		}
	})
	f.handle(mux, "GET "+api+"/namespaces/{id}", func(w http.ResponseWriter, r *http.Request) {
		if id, ok := f.groups[r.PathValue("id")]; ok {
			write(w, http.StatusOK, map[string]any{"id": id, "full_path": r.PathValue("id")})
			return
		}
		write(w, http.StatusNotFound, map[string]any{"message": "404 Namespace Not Found"})
	})
	f.handle(mux, "POST "+api+"/projects", func(w http.ResponseWriter, r *http.Request) {
		in := decode(r)
		ns := ""
		for p, id := range f.groups {
			if float64(id) == in["namespace_id"] {
				ns = p
			}
		}
		name, _ := in["path"].(string)
		if ns == "" || f.repos[ns+"/"+name] != nil {
			write(w, http.StatusBadRequest, map[string]any{"message": map[string]any{"path": []string{"has already been taken"}}})
			return
		}
		write(w, http.StatusCreated, glProject(f.create(ns, name, in)))
	})
	f.handle(mux, "GET "+api+"/groups/{id}", func(w http.ResponseWriter, r *http.Request) {
		if id, ok := f.groups[r.PathValue("id")]; ok {
			write(w, http.StatusOK, map[string]any{"id": id, "full_path": r.PathValue("id")})
			return
		}
		write(w, http.StatusNotFound, map[string]any{"message": "404 Group Not Found"})
	})
	f.handle(mux, "POST "+api+"/groups", func(w http.ResponseWriter, r *http.Request) {
		in := decode(r)
		full, _ := in["path"].(string)
		if p, ok := in["parent_id"].(float64); ok {
			parent := ""
			for path, id := range f.groups {
				if float64(id) == p {
					parent = path
				}
			}
			if parent == "" {
				write(w, http.StatusNotFound, map[string]any{"message": "404 Parent Not Found"})
				return
			}
			full = parent + "/" + full
		}
		if _, ok := f.groups[full]; ok {
			write(w, http.StatusBadRequest, map[string]any{"message": "Failed to save group {:path=>[\"has already been taken\"]}"})
			return
		}
		f.nextID++
		f.groups[full] = f.nextID
		write(w, http.StatusCreated, map[string]any{"id": f.nextID, "full_path": full})
	})
	f.handle(mux, "GET "+api+"/users", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("username")
		if _, ok := f.users[name]; ok {
			write(w, http.StatusOK, []map[string]any{{"id": 7000 + len(name), "username": name}})
			return
		}
		write(w, http.StatusOK, []map[string]any{})
	})
	f.handle(mux, "GET "+api+"/projects/{id}/merge_requests", func(w http.ResponseWriter, r *http.Request) {
		repo := projectOf(w, r)
		if repo == nil {
			return
		}
		out := []map[string]any{}
		for _, c := range f.changes {
			if c.Repo == repo.Owner+"/"+repo.Name && c.Body["state"] == r.URL.Query().Get("state") && c.Body["source_branch"] == r.URL.Query().Get("source_branch") {
				out = append(out, c.Body)
			}
		}
		write(w, http.StatusOK, out)
	})
	f.handle(mux, "POST "+api+"/projects/{id}/merge_requests", func(w http.ResponseWriter, r *http.Request) {
		repo := projectOf(w, r)
		if repo == nil {
			return
		}
		in := decode(r)
		src, _ := in["source_branch"].(string)
		sha, err := exec.Command("git", "--git-dir", f.GitDir(repo.Owner, repo.Name), "rev-parse", "refs/heads/"+src).Output()
		if err != nil {
			write(w, http.StatusBadRequest, map[string]any{"message": "Invalid source branch " + src})
			return
		}
		n := len(f.changes) + 1
		in["iid"], in["state"], in["sha"] = n, "opened", strings.TrimSpace(string(sha))
		in["web_url"] = f.URL + "/" + repo.Owner + "/" + repo.Name + "/-/merge_requests/" + strconv.Itoa(n)
		f.changes = append(f.changes, &Change{Repo: repo.Owner + "/" + repo.Name, Number: n, Body: in})
		write(w, http.StatusCreated, in)
	})
}

// AddGroup makes the GitLab group full path (its parents must exist).
func (f *Fake) AddGroup(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.groups[path] = f.nextID
	return f.nextID
}

// Group returns the id of the GitLab group full path, or 0.
func (f *Fake) Group(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.groups[path]
}
