package ports

import (
	"net"
	"strconv"
	"testing"
)

func TestFreeIsBelowTheEphemeralRangeAndListenable(t *testing.T) {
	t.Parallel()
	low := ephemeralLow()
	for range 20 {
		p, err := Free("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if low > 12000 && (p < 10000 || p >= low) {
			t.Fatalf("port %d outside [10000, %d)", p, low)
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Fatalf("port %d cannot be listened on: %v", p, err)
		}
		if Available("127.0.0.1", p) {
			t.Errorf("Available(%d) while it is listened on", p)
		}
		l.Close()
	}
	if Available("127.0.0.1", 0) {
		t.Error("Available(0) = true")
	}
}
