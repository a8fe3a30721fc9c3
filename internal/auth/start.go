package auth

import (
	"fmt"
	"net"
	"strings"
)

// Start describes a server about to start, for CheckStart.
type Start struct {
	// Command is "serve" or "dev".
	Command string
	// Addr is the listen address, host:port.
	Addr string
	// Authenticator reports whether callers are authenticated (a token
	// file, an OIDC issuer).
	Authenticator bool
	// InsecureNoAuth is --insecure-no-auth: start without an authenticator.
	InsecureNoAuth bool
}

// CheckStart refuses a server that would let anyone who reaches its port
// read and write without an identity: backlot serve, and backlot dev on an
// address other than loopback, need an authenticator (--auth-tokens or
// --oidc-issuer) or an
// explicit --insecure-no-auth. The error says why and names the flags.
func CheckStart(s Start) error {
	if s.Authenticator || s.InsecureNoAuth {
		return nil
	}
	if s.Command == "dev" && Loopback(s.Addr) {
		return nil
	}
	where := "backlot serve"
	if s.Command == "dev" {
		where = fmt.Sprintf("backlot dev on %s, an address other than loopback,", s.Addr)
	}
	return fmt.Errorf("%s refuses to start without an authenticator: anyone who reaches the port could read the catalog and start migrations that run scripts; "+
		"give --auth-tokens FILE (lines made by `backlot auth hash-token` or `backlot auth token create`) or --oidc-issuer URL (people sign in), or --insecure-no-auth to accept the risk", where)
}

// Loopback reports whether addr (host:port) listens on loopback only:
// localhost or a loopback IP. An empty or unspecified host listens on every
// interface.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
