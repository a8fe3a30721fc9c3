package auth

import (
	"net"
	"strings"
)

// LocalHost reports whether host (a request's Host header, with or without
// a port) names a server on the developer's own machine: localhost,
// 127.0.0.1, ::1, or one of names (compared without case and without a
// port). A server on a loopback address checks it against DNS rebinding: a
// name an attacker controls that resolves to 127.0.0.1 is none of these.
func LocalHost(host string, names []string) bool {
	name, _, err := net.SplitHostPort(host)
	if err != nil {
		name = strings.Trim(host, "[]")
	}
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	switch name {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	for _, h := range names {
		if strings.EqualFold(h, name) {
			return true
		}
	}
	return false
}
