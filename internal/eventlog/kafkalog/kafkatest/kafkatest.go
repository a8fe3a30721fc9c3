package kafkatest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// BrokersEnv is the environment variable that names a real Kafka cluster for tests:
// comma-separated host:port addresses of its brokers.
const BrokersEnv = "BACKLOT_TEST_KAFKA_BROKERS"

// FakeBrokers is how many brokers the in-process cluster Brokers starts has.
const FakeBrokers = 3

// fakeSessionTimeoutMin is the smallest consumer-group session timeout the fake
// cluster accepts, so that group tests can use short timeouts; a real broker's
// group.min.session.timeout.ms defaults to 6s.
const fakeSessionTimeoutMin = 100 * time.Millisecond

// Brokers returns the addresses of a Kafka cluster for t. When BACKLOT_TEST_KAFKA_BROKERS
// is set it returns the addresses listed there; otherwise it starts an in-process
// fake cluster of FakeBrokers brokers on loopback ports and closes it when t ends.
// Each call without the variable starts a new, empty cluster.
func Brokers(t testing.TB) []string {
	t.Helper()
	if env := os.Getenv(BrokersEnv); strings.TrimSpace(env) != "" {
		var brokers []string
		for _, b := range strings.Split(env, ",") {
			if b = strings.TrimSpace(b); b != "" {
				brokers = append(brokers, b)
			}
		}
		return brokers
	}
	c := StartFake(t)
	return c.ListenAddrs()
}

// Real reports whether tests run against a real cluster, that is whether
// BACKLOT_TEST_KAFKA_BROKERS is set.
func Real() bool { return strings.TrimSpace(os.Getenv(BrokersEnv)) != "" }

// StartFake starts an in-process fake cluster of FakeBrokers brokers on loopback ports
// and closes it when t ends, whatever BACKLOT_TEST_KAFKA_BROKERS says. Tests that must
// stop the cluster themselves (to see how their code copes with brokers that are
// gone) use it instead of Brokers, and so do benchmarks that want one of kfake's
// options such as kfake.BlackholeProduce; Close may be called before t ends.
func StartFake(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{
		kfake.NumBrokers(FakeBrokers),
		kfake.GroupMinSessionTimeout(fakeSessionTimeoutMin),
	}, opts...)...)
	if err != nil {
		t.Fatalf("kafkatest: start a fake Kafka cluster: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// TopicPrefix returns a prefix for the names of t's topics and consumer groups that no
// other test or run uses: "backlot-test-" followed by 12 random hex digits and a dot.
func TopicPrefix(t testing.TB) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("kafkatest: random topic prefix: %v", err)
	}
	return "backlot-test-" + hex.EncodeToString(b[:]) + "."
}
