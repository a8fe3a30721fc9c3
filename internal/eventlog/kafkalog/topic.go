package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
)

// eventsTopicConfigs are the topic configs of the history topic: it is the source of
// truth, so nothing is ever deleted from it by age or size.
var eventsTopicConfigs = map[string]string{
	"retention.ms":    "-1",
	"retention.bytes": "-1",
	"cleanup.policy":  "delete",
}

// adminMetadataTTL is how stale the metadata the topic set-up reads may be: it polls
// for partition leaders after creating a topic.
const adminMetadataTTL = 200 * time.Millisecond

// EnsureTopic creates topic on the cluster at brokers unless it exists, with the given
// number of partitions, the replication factor lowered to the number of brokers the
// cluster reports, and the given topic configs (for example
// {"cleanup.policy": "compact"}), then waits until every partition of the topic has a
// leader. An existing topic is left as it is, whatever its partitions and configs.
//
// It retries until the brokers answer or ctx ends; the error then names the brokers
// and the last cause.
func EnsureTopic(ctx context.Context, brokers []string, topic string, partitions, replication int, configs map[string]string) error {
	switch {
	case len(brokers) == 0:
		return errors.New("kafkalog: ensure topic: no brokers given")
	case topic == "":
		return errors.New("kafkalog: ensure topic: empty topic name")
	case partitions < 1 || replication < 1:
		return fmt.Errorf("kafkalog: ensure topic %s: partitions (%d) and replication factor (%d) must be at least 1",
			topic, partitions, replication)
	}
	_, err := ensureTopic(ctx, topicSpec{
		brokers:     brokers,
		topic:       topic,
		partitions:  partitions,
		replication: replication,
		configs:     configs,
		clientID:    defaultClientID,
		dialTimeout: defaultDialTimeout,
		logger:      slog.Default(),
	})
	return err
}

// topicSpec is what ensureTopic needs to know.
type topicSpec struct {
	brokers     []string
	topic       string
	partitions  int
	replication int
	configs     map[string]string
	clientID    string
	dialTimeout time.Duration
	logger      *slog.Logger
}

// ensureTopic creates the topic when missing and waits for a leader of every
// partition; it returns the number of partitions the topic has.
func ensureTopic(ctx context.Context, s topicSpec) (int, error) {
	transport := &kafka.Transport{
		DialTimeout:    s.dialTimeout,
		ClientID:       s.clientID,
		MetadataTTL:    adminMetadataTTL,
		MetadataTopics: []string{s.topic},
		Context:        ctx,
	}
	defer transport.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(s.brokers...), Transport: transport}

	var lastErr error
	created, wait := false, false
	for {
		if wait {
			if err := sleep(ctx, adminMetadataTTL); err != nil {
				return 0, unreachable(s.brokers, s.topic, lastErr, err)
			}
		}
		wait = true
		md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{s.topic}})
		if err != nil {
			lastErr = err
			continue
		}
		t, ok := findTopic(md, s.topic)
		if !ok || errors.Is(t.Error, kafka.UnknownTopicOrPartition) {
			if created {
				lastErr = fmt.Errorf("topic %s created but not in the metadata yet", s.topic)
				continue
			}
			if err := createTopic(ctx, client, s, len(md.Brokers)); err != nil {
				if ctx.Err() != nil {
					return 0, unreachable(s.brokers, s.topic, err, ctx.Err())
				}
				return 0, fmt.Errorf("kafkalog: create topic %s on brokers %s: %w", s.topic, joinBrokers(s.brokers), err)
			}
			// The transport refreshed its metadata after the creation: look again now.
			created, wait = true, false
			continue
		}
		if t.Error != nil {
			lastErr = fmt.Errorf("topic %s: %w", s.topic, t.Error)
			continue
		}
		if missing := leaderless(t); len(missing) > 0 {
			lastErr = fmt.Errorf("topic %s: partitions %v have no leader yet", s.topic, missing)
			continue
		}
		return len(t.Partitions), nil
	}
}

// createTopic creates the topic; a topic that another process created meanwhile is
// not an error.
func createTopic(ctx context.Context, client *kafka.Client, s topicSpec, brokers int) error {
	replication := s.replication
	if brokers > 0 && replication > brokers {
		replication = brokers
	}
	entries := make([]kafka.ConfigEntry, 0, len(s.configs))
	for _, name := range slices.Sorted(maps.Keys(s.configs)) {
		entries = append(entries, kafka.ConfigEntry{ConfigName: name, ConfigValue: s.configs[name]})
	}
	res, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{
		Topics: []kafka.TopicConfig{{
			Topic:             s.topic,
			NumPartitions:     s.partitions,
			ReplicationFactor: replication,
			ConfigEntries:     entries,
		}},
	})
	if err != nil {
		return err
	}
	if err := res.Errors[s.topic]; err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return err
	}
	s.logger.Info("kafkalog: created topic", "topic", s.topic, "partitions", s.partitions,
		"replication_factor", replication, "configs", s.configs)
	return nil
}

func findTopic(md *kafka.MetadataResponse, topic string) (kafka.Topic, bool) {
	for _, t := range md.Topics {
		if t.Name == topic {
			return t, true
		}
	}
	return kafka.Topic{}, false
}

// leaderless returns the partitions of t that have no leader.
func leaderless(t kafka.Topic) []int {
	var ids []int
	for _, p := range t.Partitions {
		if p.Error != nil || p.Leader.Host == "" {
			ids = append(ids, p.ID)
		}
	}
	if len(t.Partitions) == 0 {
		ids = append(ids, -1)
	}
	return ids
}

// unreachable is the error of a set-up that ran out of time: it names the brokers,
// the topic and the last thing that went wrong.
func unreachable(brokers []string, topic string, last, ctxErr error) error {
	if last == nil {
		last = ctxErr
	}
	return fmt.Errorf("kafkalog: Kafka brokers %s unreachable or topic %s not ready (%w): %w",
		joinBrokers(brokers), topic, ctxErr, last)
}

func joinBrokers(brokers []string) string { return strings.Join(brokers, ",") }

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
