package ports

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// Free returns a port of host nothing listens on, below the kernel's
// ephemeral range: a port the kernel hands out for listen(:0) is free again
// once closed, and an outgoing connection may take it before the server
// listens on it (Temporal's services then exit); ports below the range are
// never taken that way. Where the range starts too low to leave room, it
// falls back to a port the kernel picks.
func Free(host string) (int, error) {
	if low := ephemeralLow(); low > 12000 {
		for range 200 {
			port := 10000 + rand.IntN(low-10000)
			if Available(host, port) {
				return port, nil
			}
		}
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("free port on %s: %w", host, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Available reports whether port of host can be listened on now.
func Available(host string, port int) bool {
	if port <= 0 {
		return false
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's
// ip_local_port_range; 32768 where it cannot be read).
func ephemeralLow() int {
	raw, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(raw))
	if len(f) == 0 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return 32768
	}
	return n
}
