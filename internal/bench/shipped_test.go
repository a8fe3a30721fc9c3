package bench

import (
	"os/exec"
	"strings"
	"testing"
)

// testOnly reports why the package path must not be linked into the shipped
// binary, or "" when it may: the in-process Kafka broker, the broker helper
// program, Backlot's test servers and data (internal/testenv/...), the golden
// log, the differential tests against Backstage and the import rules
// (internal/golden, internal/compat/..., internal/archtest), and its contract
// suites and test helpers (packages named ...test).
func testOnly(path string) string {
	const mod = "backlot.dev/backlot/"
	switch {
	case path == "github.com/twmb/franz-go/pkg/kfake":
		return "the in-process Kafka broker"
	case path == brokerHelperPackage:
		return "the bench's broker helper program"
	case strings.HasPrefix(path, mod+"internal/testenv"):
		return "test servers and data"
	case path == mod+"internal/golden" || strings.HasPrefix(path, mod+"internal/golden/"):
		return "the golden log and its replay"
	case path == mod+"internal/compat" || strings.HasPrefix(path, mod+"internal/compat/"):
		return "the differential tests against Backstage"
	case path == mod+"internal/archtest":
		return "the import rules"
	case strings.HasPrefix(path, mod) && strings.HasSuffix(path, "test"):
		return "a contract suite or test helper"
	}
	return ""
}

// TestShippedBinaryLinksNoTestCode lists the packages cmd/backlot links (go
// list -deps, tests excluded) and fails on any that only tests and benches may
// use. It lives here, not in cmd/backlot, so that it runs without linking the
// binary's tests and the Temporal server.
func TestShippedBinaryLinksNoTestCode(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "backlot.dev/backlot/cmd/backlot").Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list -deps backlot.dev/backlot/cmd/backlot: %v\n%s", err, stderr)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 100 || !contains(deps, "backlot.dev/backlot/internal/bench") {
		t.Fatalf("go list -deps listed %d packages without internal/bench: not the binary's dependencies", len(deps))
	}
	for _, p := range deps {
		if why := testOnly(p); why != "" {
			t.Errorf("cmd/backlot links %s (%s)", p, why)
		}
	}
}

func TestTestOnly(t *testing.T) {
	tests := []struct {
		path     string
		testOnly bool
	}{
		{"github.com/twmb/franz-go/pkg/kfake", true},
		{"github.com/twmb/franz-go/pkg/kgo", false},
		{"backlot.dev/backlot/internal/bench/kafkabroker", true},
		{"backlot.dev/backlot/internal/testenv/pgtest", true},
		{"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest", true},
		{"backlot.dev/backlot/internal/eventlog/logtest", true},
		{"backlot.dev/backlot/projections/catalogstore/storetest", true},
		{"backlot.dev/backlot/projections/badges/badgetest", true},
		{"backlot.dev/backlot/internal/messaging/messagingtest", true},
		{"backlot.dev/backlot/internal/golden", true},
		{"backlot.dev/backlot/internal/compat/catalogmodel", true},
		{"backlot.dev/backlot/internal/archtest", true},
		{"backlot.dev/backlot/internal/goldenrule", false},
		{"backlot.dev/backlot/internal/messaging", false},
		{"backlot.dev/backlot/internal/eventlog/kafkalog", false},
		{"backlot.dev/backlot/internal/bench", false},
		{"backlot.dev/backlot/internal/bench/gen", false},
		{"net/http/httptest", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := testOnly(tt.path) != ""; got != tt.testOnly {
				t.Errorf("testOnly(%s) = %v, want %v", tt.path, got, tt.testOnly)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
