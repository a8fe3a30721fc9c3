package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// DefaultHint is how a RefusedError says to allow an address: the flag of
// the backlot binary and its environment variable.
const DefaultHint = "--allow-network or BACKLOT_ALLOW_NETWORKS"

// defaultDialTimeout bounds one connection attempt.
const defaultDialTimeout = 10 * time.Second

// Resolver looks up a host's addresses; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Config configures a Guard. The zero Config refuses every class of address
// Classify names.
type Config struct {
	// Allow lists what may be dialed although Classify refuses it: networks
	// in CIDR notation (10.0.0.0/8), single addresses (127.0.0.1, ::1) and
	// host names (git.internal), matched without regard to case. A host name
	// allows every address it resolves to; use it only for names the
	// operator controls.
	Allow []string
	// Resolver resolves host names; default net.DefaultResolver.
	Resolver Resolver
	// DialTimeout bounds one connection attempt; default 10 s.
	DialTimeout time.Duration
	// Hint says, in a RefusedError, how to allow an address; default
	// DefaultHint.
	Hint string
}

// Guard dials only addresses its configuration allows. It is safe for
// concurrent use.
type Guard struct {
	nets     []netip.Prefix
	hosts    map[string]bool
	resolver Resolver
	timeout  time.Duration
	hint     string
}

// New returns the Guard of cfg, or an error naming every Allow entry that is
// neither a network, an address nor a host name.
func New(cfg Config) (*Guard, error) {
	g := &Guard{hosts: map[string]bool{}, resolver: cfg.Resolver, timeout: cfg.DialTimeout, hint: cfg.Hint}
	if g.resolver == nil {
		g.resolver = net.DefaultResolver
	}
	if g.timeout <= 0 {
		g.timeout = defaultDialTimeout
	}
	if g.hint == "" {
		g.hint = DefaultHint
	}
	var errs []error
	for _, entry := range cfg.Allow {
		entry = strings.TrimSpace(entry)
		if p, err := netip.ParsePrefix(entry); err == nil {
			g.nets = append(g.nets, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(entry); err == nil {
			g.nets = append(g.nets, netip.PrefixFrom(a.WithZone(""), a.BitLen()))
			continue
		}
		if !validHostName(entry) {
			errs = append(errs, fmt.Errorf("netguard: allow-list entry %q is not a network (10.0.0.0/8), an address or a host name", entry))
			continue
		}
		g.hosts[strings.ToLower(strings.TrimSuffix(entry, "."))] = true
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return g, nil
}

// Default returns a Guard that allows no refused class: public addresses only.
func Default() *Guard {
	g, _ := New(Config{})
	return g
}

// Loopback returns a Guard that also allows loopback addresses (127.0.0.0/8
// and ::1): what tests and `backlot dev` serving local hosts need.
func Loopback() *Guard {
	g, _ := New(Config{Allow: []string{"127.0.0.0/8", "::1"}})
	return g
}

// SplitList splits comma-separated allow-list values (as a flag or an
// environment variable gives them) into entries, dropping empty ones.
func SplitList(values ...string) []string {
	var out []string
	for _, v := range values {
		for _, e := range strings.Split(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				out = append(out, e)
			}
		}
	}
	return out
}

// validHostName reports whether s looks like a DNS name: letters, digits,
// hyphens, underscores and dots.
func validHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return false
		}
	}
	return true
}

// RefusedError is a connection the Guard refused: Host is the name dialed
// (empty when an address was dialed), Addr the address it resolved to and
// Class why that address is refused.
type RefusedError struct {
	Host  string
	Addr  netip.AddrPort
	Class Class
	Hint  string
}

// Error names the address, its class and how to allow it.
func (e *RefusedError) Error() string {
	addr := e.Addr.String()
	if e.Addr.Port() == 0 {
		addr = e.Addr.Addr().String()
	}
	what := addr + " (" + string(e.Class) + " address)"
	if e.Host != "" && e.Host != e.Addr.Addr().String() {
		what = e.Host + " (" + addr + ", " + string(e.Class) + " address)"
	}
	bits := e.Addr.Addr().BitLen()
	return fmt.Sprintf("refused to connect to %s; allow it by adding %s to %s",
		what, netip.PrefixFrom(e.Addr.Addr().WithZone(""), bits), e.Hint)
}

// AllowedAddr reports whether addr may be dialed: nil, or a *RefusedError
// (with no host and port) naming its class.
func (g *Guard) AllowedAddr(addr netip.Addr) error {
	if g.allowed(addr) {
		return nil
	}
	return &RefusedError{Addr: netip.AddrPortFrom(addr, 0), Class: Classify(addr), Hint: g.hint}
}

// allowed reports whether addr is public or in an allowed network. A
// metadata address needs a prefix naming it alone.
func (g *Guard) allowed(addr netip.Addr) bool {
	class := Classify(addr)
	if class == ClassPublic {
		return true
	}
	plain := addr.WithZone("")
	for _, p := range g.nets {
		if !p.Contains(plain) && !p.Contains(embedded(plain)) {
			continue
		}
		if class != ClassMetadata || p.IsSingleIP() {
			return true
		}
	}
	return false
}

// hostAllowed reports whether host is a name of the allow-list.
func (g *Guard) hostAllowed(host string) bool {
	return g.hosts[strings.ToLower(strings.TrimSuffix(host, "."))]
}

// Resolve returns the addresses of host (a name or a literal address) that
// may be dialed, in the resolver's order. When there are none it returns a
// *RefusedError for the first refused address; when the lookup fails, its
// error.
func (g *Guard) Resolve(ctx context.Context, network, host string, port uint16) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		if g.allowed(a) || g.hostAllowed(host) {
			return []netip.Addr{a}, nil
		}
		return nil, &RefusedError{Addr: netip.AddrPortFrom(a, port), Class: Classify(a), Hint: g.hint}
	}
	ipNet := "ip"
	switch network {
	case "tcp4", "udp4", "ip4":
		ipNet = "ip4"
	case "tcp6", "udp6", "ip6":
		ipNet = "ip6"
	}
	addrs, err := g.lookup(ctx, ipNet, host)
	if err != nil {
		return nil, err
	}
	if g.hostAllowed(host) {
		return addrs, nil
	}
	var ok []netip.Addr
	var refused *RefusedError
	for _, a := range addrs {
		if g.allowed(a) {
			ok = append(ok, a)
		} else if refused == nil {
			refused = &RefusedError{Host: host, Addr: netip.AddrPortFrom(a, port), Class: Classify(a), Hint: g.hint}
		}
	}
	if len(ok) == 0 {
		if refused == nil {
			return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
		}
		return nil, refused
	}
	return ok, nil
}

// lookup resolves host, with IPv4 addresses in their 4-byte form (Go's
// resolver answers "ip" lookups with IPv4-mapped ones).
func (g *Guard) lookup(ctx context.Context, network, host string) ([]netip.Addr, error) {
	addrs, err := g.resolver.LookupNetIP(ctx, network, host)
	if err != nil {
		return nil, err
	}
	for i, a := range addrs {
		addrs[i] = a.Unmap()
	}
	return addrs, nil
}

// CheckHost resolves host and refuses it when any of its addresses is
// refused: for a client that dials by itself (git), which may pick any of
// them. It returns the addresses checked (to pin the client to them), or a
// *RefusedError, or the lookup's error.
func (g *Guard) CheckHost(ctx context.Context, host string, port uint16) ([]netip.Addr, error) {
	if _, err := netip.ParseAddr(host); err == nil {
		return g.Resolve(ctx, "ip", host, port)
	}
	addrs, err := g.lookup(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	if g.hostAllowed(host) {
		return addrs, nil
	}
	for _, a := range addrs {
		if !g.allowed(a) {
			return nil, &RefusedError{Host: host, Addr: netip.AddrPortFrom(a, port), Class: Classify(a), Hint: g.hint}
		}
	}
	return addrs, nil
}

// DialContext connects to address (host:port) on network, as
// net.Dialer.DialContext does, but only to allowed addresses: it resolves a
// host name once, drops the refused addresses and dials the rest in turn by
// address, so what is dialed is what was checked. The dialer's Control
// function checks each address again before the socket connects.
func (g *Guard) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	port, err := net.LookupPort(network, portStr)
	if err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: g.timeout, KeepAlive: 30 * time.Second}
	if g.hostAllowed(host) {
		return d.DialContext(ctx, network, address)
	}
	d.Control = g.control
	addrs, err := g.Resolve(ctx, network, host, uint16(port))
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, a := range addrs {
		conn, err := d.DialContext(ctx, network, netip.AddrPortFrom(a, uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// control is the net.Dialer Control function: it refuses a socket whose
// address the Guard does not allow.
func (g *Guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("netguard: cannot check the address %q: %w", address, err)
	}
	if !g.allowed(ap.Addr()) {
		return &RefusedError{Addr: ap, Class: Classify(ap.Addr()), Hint: g.hint}
	}
	return nil
}
