package gitsource

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/internal/netguard"
)

// TestReadRefusesAHostOnARefusedAddress: a host AllowedHosts names but
// whose address the guard refuses (loopback, by its address or by the name
// localhost) is a *NotAllowedError naming the address and its class, and git
// never contacts it.
func TestReadRefusesAHostOnARefusedAddress(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	work := newTestRepo(t, filepath.Join(tmp, "work"), "main")
	work.commit(alice, "add catalog", map[string]string{"catalog-info.yaml": "v1\n"})
	served := filepath.Join(tmp, "served")
	runGit(t, tmp, nil, "clone", "--quiet", "--bare", work.dir, filepath.Join(served, "repo.git"))
	srv := serveGit(t, served)
	_, port, _ := strings.Cut(srv.host(), ":")

	for _, host := range []string{srv.host(), "localhost:" + port} {
		r := newTestReader(t, Options{AllowedHosts: []string{host}, Guard: netguard.Default()})
		_, err := r.Read(ctxT(t), mustParse(t, "http://"+host+"/repo.git?ref=main&path=catalog-info.yaml"))
		var na *NotAllowedError
		if !errors.As(err, &na) || !errors.Is(err, catalog.ErrNotAllowed) {
			t.Fatalf("%s: %v, want a NotAllowedError", host, err)
		}
		if !strings.Contains(err.Error(), "loopback address") || !strings.Contains(err.Error(), "--allow-network") {
			t.Errorf("%s: message %q, want the address's class and how to allow it", host, err)
		}
	}
	if n := srv.requests.Load(); n != 0 {
		t.Fatalf("the server saw %d requests", n)
	}
	// Loopback allowed: the same read succeeds.
	r := newTestReader(t, Options{AllowedHosts: []string{srv.host()}, Guard: netguard.Loopback()})
	if f, err := r.Read(ctxT(t), mustParse(t, srv.URL+"/repo.git?ref=main&path=catalog-info.yaml")); err != nil || string(f.Content) != "v1\n" {
		t.Fatalf("read with loopback allowed: %q, %v", f.Content, err)
	}
}
