package kafkalog_test

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/segmentio/kafka-go"

	"backlot.dev/backlot/internal/eventlog/kafkalog"
	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
)

// describeTopic returns the partition count of topic, how many replicas its
// partition 0 has out of how many brokers the cluster has, and its configs.
func describeTopic(t *testing.T, brokers []string, topic string, configs ...string) (partitions, replicas, clusterSize int, values map[string]string) {
	t.Helper()
	transport := &kafka.Transport{}
	defer transport.CloseIdleConnections()
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Transport: transport}
	md, err := c.Metadata(t.Context(), &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil || len(md.Topics) != 1 || md.Topics[0].Error != nil {
		t.Fatalf("metadata of %s: %v %+v", topic, err, md)
	}
	partitions, clusterSize = len(md.Topics[0].Partitions), len(md.Brokers)
	for _, p := range md.Topics[0].Partitions {
		if p.ID == 0 {
			replicas = len(p.Replicas)
		}
	}
	res, err := c.DescribeConfigs(t.Context(), &kafka.DescribeConfigsRequest{
		Resources: []kafka.DescribeConfigRequestResource{{
			ResourceType: kafka.ResourceTypeTopic, ResourceName: topic, ConfigNames: configs,
		}},
	})
	if err != nil || len(res.Resources) != 1 || res.Resources[0].Error != nil {
		t.Fatalf("configs of %s: %v %+v", topic, err, res)
	}
	values = map[string]string{}
	for _, e := range res.Resources[0].ConfigEntries {
		values[e.ConfigName] = e.ConfigValue
	}
	return partitions, replicas, clusterSize, values
}

func TestOpenCreatesTheTopic(t *testing.T) {
	t.Parallel()
	brokers := kafkatest.Brokers(t)
	// More replicas than the fake cluster has brokers: lowered to what it has.
	l := openLog(t, brokers, 4, func(o *kafkalog.Options) { o.ReplicationFactor = 5 })
	if !strings.HasSuffix(l.Topic(), ".catalog.events.v1") {
		t.Errorf("Topic() = %q, want the prefix followed by catalog.events.v1", l.Topic())
	}
	partitions, replicas, clusterSize, configs := describeTopic(t, brokers, l.Topic(), "retention.ms", "retention.bytes", "cleanup.policy")
	if partitions != 4 {
		t.Errorf("topic has %d partitions, want 4", partitions)
	}
	if want := min(5, clusterSize); replicas != want {
		t.Errorf("topic has %d replicas, want %d (one per broker)", replicas, want)
	}
	want := map[string]string{"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete"}
	for k, v := range want {
		if configs[k] != v {
			t.Errorf("topic config %s = %q, want %q", k, configs[k], v)
		}
	}
}

// lockedBuffer is a bytes.Buffer for a logger used from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestOpenKeepsAnExistingTopic(t *testing.T) {
	t.Parallel()
	brokers := kafkatest.Brokers(t)
	prefix := kafkatest.TopicPrefix(t)
	topic := prefix + kafkalog.EventsTopic
	if err := kafkalog.EnsureTopic(t.Context(), brokers, topic, 2, 1, nil); err != nil {
		t.Fatalf("EnsureTopic: %v", err)
	}
	var logs lockedBuffer
	l := openLog(t, brokers, 6, func(o *kafkalog.Options) {
		o.TopicPrefix = prefix
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	parts, err := l.Partitions(t.Context())
	if err != nil || !slices.Equal(parts, []int32{0, 1}) {
		t.Fatalf("Partitions = %v, %v; want the existing topic's 0 and 1", parts, err)
	}
	if !strings.Contains(logs.String(), "another partition count") || !strings.Contains(logs.String(), "partitions=2") {
		t.Errorf("Open did not log the partition count it found; logged:\n%s", logs.String())
	}
	// Events go to the existing partitions.
	evs := spread("x", 20, 20)
	if _, err := l.Append(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Partition > 1 {
			t.Fatalf("event in partition %d of a two-partition topic", e.Partition)
		}
	}
}

func TestEnsureTopicCompacted(t *testing.T) {
	t.Parallel()
	brokers := kafkatest.Brokers(t)
	topic := kafkatest.TopicPrefix(t) + "catalog.entities.v1"
	for range 2 { // the second call finds the topic and changes nothing
		if err := kafkalog.EnsureTopic(t.Context(), brokers, topic, 3, 3, map[string]string{"cleanup.policy": "compact"}); err != nil {
			t.Fatalf("EnsureTopic: %v", err)
		}
	}
	partitions, _, _, configs := describeTopic(t, brokers, topic, "cleanup.policy")
	if partitions != 3 || configs["cleanup.policy"] != "compact" {
		t.Fatalf("topic has %d partitions and cleanup.policy %q, want 3 and compact", partitions, configs["cleanup.policy"])
	}

	for _, tt := range []struct {
		name                  string
		brokers               []string
		topic                 string
		partitions, replicate int
	}{
		{"no brokers", nil, topic, 1, 1},
		{"no topic", brokers, "", 1, 1},
		{"no partitions", brokers, topic, 0, 1},
	} {
		if err := kafkalog.EnsureTopic(context.Background(), tt.brokers, tt.topic, tt.partitions, tt.replicate, nil); err == nil {
			t.Errorf("EnsureTopic with %s succeeded", tt.name)
		}
	}
}
