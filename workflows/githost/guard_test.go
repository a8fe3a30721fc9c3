package githost_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"backlot.dev/backlot/workflows/githost"
	"backlot.dev/backlot/workflows/netguard"
)

// loopbackClient reaches the fake hosts, which listen on 127.0.0.1: a
// host's default client refuses loopback.
var loopbackClient = netguard.NewClient(netguard.Loopback(), 30*time.Second)

// TestHostAPIDialsThroughTheGuard: a host without a client of its own
// refuses an API on loopback at dial time, and a host's client follows no
// redirect: the 302 is the answer, and its target is never requested.
func TestHostAPIDialsThroughTheGuard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var hit atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit.Add(1) }))
	defer elsewhere.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusFound)
	}))
	defer srv.Close()

	_, err := (&githost.GitHub{BaseURL: srv.URL, Token: "t0ken"}).RepoFor(ctx, "https://"+srv.Listener.Addr().String()+"/northwind/ledger")
	var refused *netguard.RefusedError
	if !errors.As(err, &refused) || refused.Class != netguard.ClassLoopback {
		t.Errorf("github on loopback with the default client: %v, want a refusal", err)
	}
	_, err = (&githost.GitLab{BaseURL: srv.URL, Token: "glpat"}).RepoFor(ctx, srv.URL+"/northwind/ledger")
	if !errors.As(err, &refused) || refused.Class != netguard.ClassLoopback {
		t.Errorf("gitlab on loopback with the default client: %v, want a refusal", err)
	}

	_, err = (&githost.GitLab{BaseURL: srv.URL, Token: "glpat", HTTP: loopbackClient}).RepoFor(ctx, srv.URL+"/northwind/ledger")
	var api *githost.APIError
	if !errors.As(err, &api) || api.Status != http.StatusFound {
		t.Errorf("a redirecting API: %v, want the 302 as an APIError", err)
	}
	if n := hit.Load(); n != 0 {
		t.Errorf("the redirect's target was requested %d times", n)
	}
}
