package gitsource

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/workflows/netguard"
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

// loopbackResolver answers every name with 127.0.0.1.
type loopbackResolver struct{}

func (loopbackResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
}

// TestReadPinsGitToTheAddressesChecked: the host name exists only in the
// guard's resolver, so git reaches the server only because the read pins
// the name to the address the guard checked: git does not resolve it again.
func TestReadPinsGitToTheAddressesChecked(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	work := newTestRepo(t, filepath.Join(tmp, "work"), "main")
	work.commit(alice, "add catalog", map[string]string{"catalog-info.yaml": "pinned\n"})
	served := filepath.Join(tmp, "served")
	runGit(t, tmp, nil, "clone", "--quiet", "--bare", work.dir, filepath.Join(served, "repo.git"))
	srv := serveGit(t, served)
	_, port, _ := strings.Cut(srv.host(), ":")
	host := "git.pinned.invalid:" + port
	guard, err := netguard.New(netguard.Config{Resolver: loopbackResolver{}, Allow: []string{"127.0.0.0/8"}})
	if err != nil {
		t.Fatal(err)
	}
	r := newTestReader(t, Options{AllowedHosts: []string{host}, Guard: guard})
	f, err := r.Read(ctxT(t), mustParse(t, "http://"+host+"/repo.git?ref=main&path=catalog-info.yaml"))
	if err != nil || string(f.Content) != "pinned\n" {
		t.Fatalf("read through the pinned address: %q, %v", f.Content, err)
	}
	if srv.requests.Load() == 0 {
		t.Fatal("the server saw no request")
	}
}
