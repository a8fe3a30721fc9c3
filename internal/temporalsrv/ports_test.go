package temporalsrv

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"

	"backlot.dev/backlot/internal/ports"
)

// TestStartSurvivesAPortTakenBeforeItIsBound takes, between the moment Start
// chooses its ports and the moment the server binds them, the port of one
// service, as another process can: the start picks other ports and succeeds
// instead of ending the process. history and matching are built before the
// frontend, whose port is configured for them; the frontend's own port is
// taken when Start chose it (port 0), after the other two were bound.
func TestStartSurvivesAPortTakenBeforeItIsBound(t *testing.T) {
	for _, service := range []string{"history", "matching", "frontend"} {
		t.Run(service, func(t *testing.T) {
			front := 0
			if service != "frontend" {
				var err error
				if front, err = ports.Free("127.0.0.1"); err != nil {
					t.Fatal(err)
				}
			}
			var taken net.Listener
			var attempts []servicePorts
			cfg := Config{
				DBPath: filepath.Join(t.TempDir(), "temporal.db"),
				Addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(front)),
				chosen: func(attempt int, p servicePorts) {
					attempts = append(attempts, p)
					if attempt != 1 {
						return
					}
					l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p.GRPC[service])))
					if err != nil {
						t.Errorf("take %s's port %d: %v", service, p.GRPC[service], err)
						return
					}
					taken = l
				},
			}
			s, err := Start(context.Background(), cfg)
			if taken != nil {
				defer taken.Close()
			}
			if err != nil {
				t.Fatalf("start with %s's port taken: %v", service, err)
			}
			defer s.Stop()
			if taken == nil {
				t.Fatal("the port was not taken")
			}
			if len(attempts) != 2 {
				t.Fatalf("%d attempts, want 2 (the first failing on the taken port)", len(attempts))
			}
			if attempts[1].GRPC[service] == attempts[0].GRPC[service] {
				t.Fatalf("the second attempt used the taken port %d again", attempts[0].GRPC[service])
			}
			if front != 0 && s.Addr() != cfg.Addr {
				t.Fatalf("frontend at %s, want the configured %s", s.Addr(), cfg.Addr)
			}
			c, err := client.Dial(client.Options{HostPort: s.Addr(), Namespace: s.Namespace()})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.DescribeWorkflowExecution(context.Background(), "none", ""); err == nil || !strings.Contains(err.Error(), "not found") {
				t.Fatalf("the started server does not answer: %v", err)
			}
		})
	}
}

// TestStartFailsOnATakenFrontendAddress: the configured frontend address is
// not one to pick again; a start on a taken one returns an error naming it
// (the process goes on).
func TestStartFailsOnATakenFrontendAddress(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	attempts := 0
	_, err = Start(context.Background(), Config{
		DBPath: filepath.Join(t.TempDir(), "temporal.db"),
		Addr:   l.Addr().String(),
		chosen: func(int, servicePorts) { attempts++ },
	})
	var taken *portTakenError
	if !errors.As(err, &taken) || !strings.Contains(err.Error(), l.Addr().String()) {
		t.Fatalf("start on a taken frontend address: %v, want a port-taken error naming %s", err, l.Addr())
	}
	if attempts != 1 {
		t.Fatalf("%d attempts on a taken configured address, want 1", attempts)
	}
}
