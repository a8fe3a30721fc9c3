package netguard_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"backlot.dev/backlot/workflows/netguard"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		addr string
		want netguard.Class
	}{
		{"public v4", "93.184.216.34", netguard.ClassPublic},
		{"public v6", "2606:2800:220:1:248:1893:25c8:1946", netguard.ClassPublic},
		{"loopback v4", "127.0.0.1", netguard.ClassLoopback},
		{"loopback v4 high", "127.255.255.254", netguard.ClassLoopback},
		{"loopback v6", "::1", netguard.ClassLoopback},
		{"loopback mapped", "::ffff:127.0.0.1", netguard.ClassLoopback},
		{"loopback NAT64", "64:ff9b::7f00:1", netguard.ClassLoopback},
		{"unspecified v4", "0.0.0.0", netguard.ClassUnspecified},
		{"this network", "0.1.2.3", netguard.ClassUnspecified},
		{"unspecified v6", "::", netguard.ClassUnspecified},
		{"link-local v4", "169.254.1.1", netguard.ClassLinkLocal},
		{"link-local v6", "fe80::1", netguard.ClassLinkLocal},
		{"link-local v6 zone", "fe80::1%eth0", netguard.ClassLinkLocal},
		{"private 10", "10.0.0.1", netguard.ClassPrivate},
		{"private 172.16", "172.16.0.1", netguard.ClassPrivate},
		{"private 172.31", "172.31.255.255", netguard.ClassPrivate},
		{"public 172.32", "172.32.0.1", netguard.ClassPublic},
		{"private 192.168", "192.168.1.1", netguard.ClassPrivate},
		{"private fc00", "fc00::1", netguard.ClassPrivate},
		{"private fd", "fd12:3456::1", netguard.ClassPrivate},
		{"private mapped", "::ffff:10.0.0.1", netguard.ClassPrivate},
		{"private mapped 192.168", "::ffff:c0a8:0101", netguard.ClassPrivate},
		{"CGNAT", "100.64.0.1", netguard.ClassCGNAT},
		{"CGNAT top", "100.127.255.255", netguard.ClassCGNAT},
		{"public 100.128", "100.128.0.1", netguard.ClassPublic},
		{"multicast v4", "224.0.0.1", netguard.ClassMulticast},
		{"multicast v4 high", "239.255.255.250", netguard.ClassMulticast},
		{"multicast v6", "ff02::1", netguard.ClassMulticast},
		{"multicast v6 global", "ff0e::1", netguard.ClassMulticast},
		{"broadcast", "255.255.255.255", netguard.ClassBroadcast},
		{"reserved 240", "240.0.0.1", netguard.ClassReserved},
		{"IPv4-compatible", "::10.0.0.1", netguard.ClassReserved},
		{"metadata v4", "169.254.169.254", netguard.ClassMetadata},
		{"metadata mapped", "::ffff:169.254.169.254", netguard.ClassMetadata},
		{"metadata NAT64", "64:ff9b::a9fe:a9fe", netguard.ClassMetadata},
		{"metadata AWS v6", "fd00:ec2::254", netguard.ClassMetadata},
		{"metadata Alibaba", "100.100.100.200", netguard.ClassMetadata},
		{"public NAT64", "64:ff9b::5db8:d822", netguard.ClassPublic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := netguard.Classify(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("Classify(%s) = %q, want %q", tt.addr, got, tt.want)
			}
		})
	}
}

func TestAllowList(t *testing.T) {
	t.Parallel()
	g, err := netguard.New(netguard.Config{Allow: []string{"127.0.0.0/8", "10.0.0.0/8", "::1", "169.254.0.0/16", "100.100.100.200"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr    string
		allowed bool
	}{
		{"127.0.0.1", true},
		{"::ffff:127.0.0.1", true},
		{"::1", true},
		{"10.9.8.7", true},
		{"::ffff:10.9.8.7", true},
		{"192.168.0.1", false},
		{"169.254.1.1", true},
		// A metadata address needs a prefix naming it alone.
		{"169.254.169.254", false},
		{"100.100.100.200", true},
		{"fd00:ec2::254", false},
		{"8.8.8.8", true},
	}
	for _, tt := range tests {
		err := g.AllowedAddr(netip.MustParseAddr(tt.addr))
		if (err == nil) != tt.allowed {
			t.Errorf("%s: allowed %v, want %v (%v)", tt.addr, err == nil, tt.allowed, err)
		}
	}
	if _, err := netguard.New(netguard.Config{Allow: []string{"10.0.0.0/8", "not a host/x"}}); err == nil || !strings.Contains(err.Error(), `"not a host/x"`) {
		t.Errorf("a bad entry: %v", err)
	}
	if got := netguard.SplitList("127.0.0.0/8, 10.0.0.0/8,", "::1"); strings.Join(got, " ") != "127.0.0.0/8 10.0.0.0/8 ::1" {
		t.Errorf("SplitList: %q", got)
	}
}

func TestRefusedErrorMessage(t *testing.T) {
	t.Parallel()
	_, err := netguard.Default().DialContext(context.Background(), "tcp", "169.254.169.254:80")
	var re *netguard.RefusedError
	if !errors.As(err, &re) || re.Class != netguard.ClassMetadata {
		t.Fatalf("dial metadata: %v", err)
	}
	want := "refused to connect to 169.254.169.254:80 (metadata address); allow it by adding 169.254.169.254/32 to --allow-network or BACKLOT_ALLOW_NETWORKS"
	if err.Error() != want {
		t.Errorf("message:\n got %s\nwant %s", err, want)
	}
}

// fakeResolver answers every name with the same addresses.
type fakeResolver struct {
	addrs []netip.Addr
	calls atomic.Int32
}

func (f *fakeResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	f.calls.Add(1)
	return f.addrs, nil
}

func TestDialRefusesANameResolvingToLoopback(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	res := &fakeResolver{addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}
	g, _ := netguard.New(netguard.Config{Resolver: res})
	_, err := g.DialContext(context.Background(), "tcp", net.JoinHostPort("rebind.example", port))
	var re *netguard.RefusedError
	if !errors.As(err, &re) || re.Class != netguard.ClassLoopback || re.Host != "rebind.example" {
		t.Fatalf("dial a name resolving to loopback: %v", err)
	}
	if !strings.Contains(err.Error(), "refused to connect to rebind.example (127.0.0.1:"+port+", loopback address)") {
		t.Errorf("message: %s", err)
	}
	// The same name, loopback allowed: the connection is made.
	allow, _ := netguard.New(netguard.Config{Resolver: res, Allow: []string{"127.0.0.0/8"}})
	conn, err := allow.DialContext(context.Background(), "tcp", net.JoinHostPort("rebind.example", port))
	if err != nil {
		t.Fatalf("loopback allowed: %v", err)
	}
	conn.Close()
	// A name on the allow-list reaches what it resolves to.
	byName, _ := netguard.New(netguard.Config{Allow: []string{"LocalHost"}})
	conn, err = byName.DialContext(context.Background(), "tcp", net.JoinHostPort("localhost", port))
	if err != nil {
		t.Fatalf("allowed host name: %v", err)
	}
	conn.Close()
	// Mixed answers: only the allowed address is dialed.
	mixed := &fakeResolver{addrs: []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("127.0.0.1")}}
	g, _ = netguard.New(netguard.Config{Resolver: mixed, Allow: []string{"127.0.0.1"}})
	conn, err = g.DialContext(context.Background(), "tcp", net.JoinHostPort("mixed.example", port))
	if err != nil {
		t.Fatalf("mixed answers: %v", err)
	}
	conn.Close()
	if _, err := g.CheckHost(context.Background(), "mixed.example", 443); err == nil || !strings.Contains(err.Error(), "mixed.example (10.0.0.1:443, private address)") {
		t.Errorf("CheckHost of a name with a private address: %v", err)
	}
}

func TestDialRefusesLiteralAddresses(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"127.0.0.1:80", "[::1]:80", "[::ffff:127.0.0.1]:80", "10.0.0.1:80", "[fe80::1%lo]:80", "0.0.0.0:80", "100.64.1.1:80", "[fd00:ec2::254]:80", "100.100.100.200:80"} {
		_, err := netguard.Default().DialContext(context.Background(), "tcp", addr)
		var re *netguard.RefusedError
		if !errors.As(err, &re) {
			t.Errorf("%s: %v, want a RefusedError", addr, err)
		}
	}
}

func TestClientFollowsNoRedirect(t *testing.T) {
	t.Parallel()
	var hit atomic.Int32
	second := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit.Add(1) }))
	defer second.Close()
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, second.URL+"/elsewhere", http.StatusFound)
	}))
	defer first.Close()
	c := netguard.NewClient(netguard.Loopback(), 5*time.Second)
	resp, err := c.Post(first.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("status %d, want the 302 itself", resp.StatusCode)
	}
	if hit.Load() != 0 {
		t.Errorf("the redirect's target was requested %d times", hit.Load())
	}
	// Without loopback allowed, the same request is refused at dial time.
	_, err = netguard.NewClient(netguard.Default(), 5*time.Second).Get(first.URL)
	var re *netguard.RefusedError
	if !errors.As(err, &re) || re.Class != netguard.ClassLoopback {
		t.Errorf("default guard: %v", err)
	}
}

// BenchmarkAllowedAddr measures the check made for every address dialed.
func BenchmarkAllowedAddr(b *testing.B) {
	g, _ := netguard.New(netguard.Config{Allow: []string{"127.0.0.0/8", "10.0.0.0/8", "::1"}})
	addrs := []netip.Addr{netip.MustParseAddr("140.82.112.3"), netip.MustParseAddr("::ffff:192.168.1.1"), netip.MustParseAddr("10.1.2.3")}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = g.AllowedAddr(addrs[i%len(addrs)])
	}
}
