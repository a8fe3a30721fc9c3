package gitsource

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"backlot.dev/backlot/domain/catalog"
)

// TestReadOverSmartHTTP clones and fetches a repository served by git http-backend
// on 127.0.0.1: the same path as a read from a real git host.
func TestReadOverSmartHTTP(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	work := newTestRepo(t, filepath.Join(tmp, "work"), "main")
	first, firstAt := work.commit(alice, "add catalog", map[string]string{
		"catalog-info.yaml":    "v1\n",
		"docs/openapi.yaml":    "openapi v1\n",
		"services/b/info.yaml": "b\n",
	})
	later, _ := work.commit(bob, "touch readme", map[string]string{"README.md": "hi\n"})
	served := filepath.Join(tmp, "served")
	runGit(t, tmp, nil, "clone", "--quiet", "--bare", work.dir, filepath.Join(served, "repo.git"))
	srv := serveGit(t, served)

	r := newTestReader(t, Options{AllowedHosts: []string{strings.ToUpper(srv.host())}})
	target := mustParse(t, srv.URL+"/repo.git?ref=main&path=catalog-info.yaml")
	f, err := r.Read(ctxT(t), target)
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, f, "v1\n", first, alice, firstAt, later)
	if want := srv.URL + "/repo.git?ref=main&path=catalog-info.yaml"; f.URL != want {
		t.Errorf("URL = %q, want %q", f.URL, want)
	}
	if srv.requests.Load() == 0 {
		t.Fatal("the server saw no request")
	}

	// Default branch over HTTP.
	if f, err := r.Read(ctxT(t), mustParse(t, srv.URL+"/repo.git")); err != nil || f.Target.Ref != "main" || f.HeadSHA != later {
		t.Errorf("default-branch read: ref %q head %s, %v", f.Target.Ref, f.HeadSHA, err)
	}

	// A new commit is pushed to the served repository: the next read fetches it.
	third, thirdAt := work.commit(carol, "edit catalog", map[string]string{"catalog-info.yaml": "v2\n"})
	work.git(carol, "push", "--quiet", filepath.Join(served, "repo.git"), "main")
	f2, err := r.Read(ctxT(t), target)
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, f2, "v2\n", third, carol, thirdAt, third)

	// Concurrent reads of the same repository all see the same commit.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tg := target
			if i%2 == 1 {
				tg.Path = "services/b/info.yaml"
			}
			got, err := r.Read(ctxT(t), tg)
			if err == nil && got.HeadSHA != third {
				err = errors.New("HeadSHA " + got.HeadSHA + ", want " + third)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent read: %v", err)
		}
	}

	// Missing file, branch and repository over HTTP.
	var nf *NotFoundError
	if _, err := r.Read(ctxT(t), mustParse(t, srv.URL+"/repo.git?ref=main&path=nope.yaml")); !errors.As(err, &nf) || nf.Path != "nope.yaml" {
		t.Errorf("missing file: %v, want *NotFoundError", err)
	}
	if _, err := r.Read(ctxT(t), mustParse(t, srv.URL+"/repo.git?ref=nope")); !errors.As(err, &nf) || nf.Ref != "nope" {
		t.Errorf("missing branch: %v, want *NotFoundError", err)
	}
	if _, err := r.Read(ctxT(t), mustParse(t, srv.URL+"/nope.git")); !errors.As(err, &nf) || nf.Repo != srv.URL+"/nope.git" {
		t.Errorf("missing repository: %v, want *NotFoundError", err)
	}

	// Relative reads of the pinned commit come from the cache: they work with the
	// server gone.
	srv.Close()
	api, err := r.ReadRelative(ctxT(t), f2.Target, "docs/openapi.yaml")
	if err != nil || string(api.Content) != "openapi v1\n" || api.HeadSHA != third {
		t.Errorf("pinned ReadRelative with the server closed = %q at %s, %v", api.Content, api.HeadSHA, err)
	}
	if _, err := r.Read(ctxT(t), target); err == nil {
		t.Error("unpinned Read with the server closed succeeded; want a connection error")
	}
}

func TestReadRefusesHostsWithoutNetwork(t *testing.T) {
	t.Parallel()
	srv := serveGit(t, t.TempDir())
	host := srv.host()
	hostname, port, _ := strings.Cut(host, ":")

	tests := []struct {
		name    string
		allowed []string
		target  string
	}{
		{"no hosts allowed", nil, srv.URL + "/repo.git"},
		{"host without the port", []string{hostname}, srv.URL + "/repo.git"},
		{"another port", []string{hostname + ":1"}, srv.URL + "/repo.git"},
		{"another host", []string{"github.com"}, srv.URL + "/repo.git?ref=main&path=a.yaml"},
		{"a sub-domain of an allowed host", []string{"example.com"}, "https://evil.example.com/org/repo"},
		{"an allowed host as a sub-domain", []string{"github.com"}, "https://github.com.evil.example/org/repo/blob/main/a.yaml"},
		{"same name, other port", []string{"github.com"}, "https://github.com:8443/org/repo"},
		{"localhost is not 127.0.0.1", []string{"localhost:" + port}, srv.URL + "/repo.git"},
	}
	// Runs after the parallel subtests.
	t.Cleanup(func() {
		if n := srv.requests.Load(); n != 0 {
			t.Errorf("the server saw %d requests; refused hosts must not be contacted", n)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newTestReader(t, Options{AllowedHosts: tt.allowed})
			tg := mustParse(t, tt.target)
			_, err := r.Read(ctxT(t), tg)
			var na *NotAllowedError
			if !errors.As(err, &na) || !errors.Is(err, catalog.ErrNotAllowed) {
				t.Fatalf("Read(%s) error = %v, want *NotAllowedError", tt.target, err)
			}
			if na.Target != tg || !strings.Contains(na.Reason, tg.Host) || !strings.Contains(err.Error(), "AllowedHosts") {
				t.Errorf("NotAllowedError = %+v (%v)", na, err)
			}
			if _, err := r.ReadRelative(ctxT(t), tg, "x.yaml"); !errors.As(err, new(*NotAllowedError)) {
				t.Errorf("ReadRelative error = %v, want *NotAllowedError", err)
			}
		})
	}
}

// TestReadTimeout reads from a server that never answers: the Timeout ends the
// read, and git is killed.
func TestReadTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		select {
		case <-req.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	host := strings.TrimPrefix(srv.URL, "http://")
	r := newTestReader(t, Options{AllowedHosts: []string{host}, Timeout: 500 * time.Millisecond})
	start := time.Now()
	_, err := r.Read(context.Background(), mustParse(t, srv.URL+"/repo.git"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Read from a stalled server: %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("Read took %s after a 500ms Timeout", d)
	}

	// The caller's context ends the read too.
	r = newTestReader(t, Options{AllowedHosts: []string{host}})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := r.Read(ctx, mustParse(t, srv.URL+"/repo.git")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Read with a short context: %v, want context.DeadlineExceeded", err)
	}
}

// TestReadDoesNotFollowRedirects checks that an allowed host cannot send git to a
// host that is not allowed.
func TestReadDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	work := newTestRepo(t, filepath.Join(tmp, "work"), "main")
	work.commit(alice, "one", map[string]string{"catalog-info.yaml": "v1\n"})
	served := filepath.Join(tmp, "served")
	runGit(t, tmp, nil, "clone", "--quiet", "--bare", work.dir, filepath.Join(served, "repo.git"))
	elsewhere := serveGit(t, served)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, elsewhere.URL+req.URL.RequestURI(), http.StatusFound)
	}))
	t.Cleanup(redirector.Close)

	r := newTestReader(t, Options{AllowedHosts: []string{strings.TrimPrefix(redirector.URL, "http://")}})
	if _, err := r.Read(ctxT(t), mustParse(t, redirector.URL+"/repo.git")); err == nil {
		t.Fatal("Read through a redirect to a host that is not allowed succeeded")
	}
	if n := elsewhere.requests.Load(); n != 0 {
		t.Errorf("the redirect target saw %d requests", n)
	}
}
