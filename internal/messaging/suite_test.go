package messaging_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"
	"github.com/segmentio/kafka-go"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/internal/messaging"
	"backlot.dev/backlot/internal/messaging/messagingtest"
)

// The two pub/subs run Watermill's universal pub/sub suite. On the embedded log
// it runs in its short form (Features.ForceShort: 50 to 100 messages a case
// instead of up to 10,000; about 3 s instead of 2.5 min, most of it fifty
// subscribers each reading 5,000 events and saving a cursor file per ack) unless
// BACKLOT_TEST_PUBSUB_FULL=1; on Kafka it runs in full (about 10 s on the
// in-process broker), or short with `go test -short`. With
// BACKLOT_TEST_KAFKA_BROKERS set the Kafka suite runs on that cluster, and
// BACKLOT_TEST_KAFKA_RESTART (a command, split on spaces, that restarts the
// brokers) adds the suite's reconnect case.

// logSuiteShort reports whether the log suite runs its short form.
func logSuiteShort() bool { return os.Getenv("BACKLOT_TEST_PUBSUB_FULL") == "" }

// topicMessage is how topicMarshaler keeps any Watermill message in an event:
// the suite's messages are not Backlot events and its topics are many.
type topicMessage struct {
	Topic    string            `json:"topic"`
	UUID     string            `json:"uuid"`
	Metadata map[string]string `json:"metadata"`
	Payload  []byte            `json:"payload"`
}

// topicMarshaler is a LogMarshaler for arbitrary messages on named topics: an
// event of type test.watermill.message.v1 whose subject is the topic and whose
// data holds the message. Each event gets a fresh id, since the suite publishes
// copies of one message (one UUID) to several topics.
type topicMarshaler struct{}

const topicMessageType = "test.watermill.message.v1"

func (topicMarshaler) Marshal(topic string, msg *message.Message) (event.Envelope, error) {
	return event.New(topicMessageType, "topic:"+topic, topicMessage{Topic: topic, UUID: msg.UUID, Metadata: msg.Metadata, Payload: msg.Payload}, event.Meta{})
}

func (topicMarshaler) Unmarshal(topic string, ev event.Envelope) (*message.Message, bool, error) {
	if ev.Type != topicMessageType || ev.Subject != "topic:"+topic {
		return nil, false, nil
	}
	var tm topicMessage
	if err := json.Unmarshal(ev.Data, &tm); err != nil {
		return nil, false, err
	}
	msg := message.NewMessage(tm.UUID, tm.Payload)
	for k, v := range tm.Metadata {
		msg.Metadata.Set(k, v)
	}
	return msg, true, nil
}

// TestLogPubSubPassesWatermillsSuite runs the universal suite on the pub/sub
// over the embedded log. The pub/subs one case makes share a log and a cursor
// file, as the processes of one data folder would; a consumer group is a
// cursor name.
func TestLogPubSubPassesWatermillsSuite(t *testing.T) {
	type shared struct {
		log     *sqlitelog.Log
		cursors *messagingtest.FileCursors
	}
	var mu sync.Mutex
	envs := map[string]*shared{}
	env := func(t *testing.T) *shared {
		mu.Lock()
		defer mu.Unlock()
		if e := envs[t.Name()]; e != nil {
			return e
		}
		dir := t.TempDir()
		l, err := sqlitelog.Open(filepath.Join(dir, "events.db"), sqlitelog.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		c, err := messagingtest.NewFileCursors(filepath.Join(dir, "cursors.json"))
		if err != nil {
			t.Fatal(err)
		}
		e := &shared{log: l, cursors: c}
		envs[t.Name()] = e
		return e
	}
	newPubSub := func(t *testing.T, group string) (message.Publisher, message.Subscriber) {
		e := env(t)
		sub, err := messaging.NewLogSubscriber(messaging.LogSubscriberConfig{Log: e.log, Cursors: e.cursors, Consumer: group,
			Marshaler: topicMarshaler{}, CursorPerTopic: true, NackResendDelay: 10 * time.Millisecond, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sub.Close() })
		return messaging.LogPublisher{Log: e.log, Marshaler: topicMarshaler{}}, sub
	}
	tests.TestPubSub(t, tests.Features{
		// Every subscription of a consumer reads the whole log from the
		// consumer's cursor; consumers (groups) are independent.
		ConsumerGroups: true,
		// At least once: a nacked message comes again, and a message acked
		// before its cursor is saved comes again after a restart.
		ExactlyOnceDelivery: false,
		// Log order, one message at a time, for any number of subscribers.
		GuaranteedOrder: true,
		// The log is a file; a new pub/sub on it sees what others wrote.
		Persistent: true,
		// A new subscriber of a consumer resumes at the consumer's cursor.
		NewSubscriberReceivesOldMessages: false,
		ForceShort:                       logSuiteShort(),
	},
		func(t *testing.T) (message.Publisher, message.Subscriber) { return newPubSub(t, "suite") },
		newPubSub,
	)
}

// kafkaSuiteSubscriber is a KafkaSubscriber that creates its topic when the
// suite asks (Watermill's SubscribeInitializer), with one partition: the
// suite's messages carry no partition key, and the publisher keeps order per
// key, that is per partition.
type kafkaSuiteSubscriber struct {
	*messaging.KafkaSubscriber
	brokers []string
}

func (s kafkaSuiteSubscriber) SubscribeInitialize(topic string) error {
	c := &kafka.Client{Addr: kafka.TCP(s.brokers...), Timeout: 30 * time.Second}
	resp, err := c.CreateTopics(context.Background(), &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: topic, NumPartitions: 1, ReplicationFactor: 1}}})
	if err != nil {
		return err
	}
	if err := resp.Errors[topic]; err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	return nil
}

// TestKafkaPubSubPassesWatermillsSuite runs the universal suite on the Kafka
// pub/sub: on the in-process broker, or on the cluster BACKLOT_TEST_KAFKA_BROKERS
// names. The pub/subs of one case share a consumer group.
func TestKafkaPubSubPassesWatermillsSuite(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	prefix := kafkatest.TopicPrefix(t)
	var restart []string
	if cmd := strings.Fields(os.Getenv("BACKLOT_TEST_KAFKA_RESTART")); len(cmd) > 0 && kafkatest.Real() {
		restart = cmd
	}
	// The in-process broker accepts short sessions: a member that vanished
	// while joining (TestConcurrentClose) holds the group up for 2s, not 10s.
	var session time.Duration
	if !kafkatest.Real() {
		session = 2 * time.Second
	}
	newPubSub := func(t *testing.T, group string) (message.Publisher, message.Subscriber) {
		pub, err := messaging.NewKafkaPublisher(messaging.KafkaPublisherConfig{Brokers: brokers})
		if err != nil {
			t.Fatal(err)
		}
		sub, err := messaging.NewKafkaSubscriber(messaging.KafkaSubscriberConfig{Brokers: brokers, GroupID: prefix + group,
			NackResendDelay: 10 * time.Millisecond, Logger: quiet, SessionTimeout: session})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sub.Close() })
		return pub, kafkaSuiteSubscriber{KafkaSubscriber: sub, brokers: brokers}
	}
	tests.TestPubSub(t, tests.Features{
		// A group's members share the topic's partitions and resume at its
		// committed offsets; groups are independent.
		ConsumerGroups: true,
		// At least once: the offset is committed after the ack.
		ExactlyOnceDelivery: false,
		// Order holds per partition (per partition key); the suite's topics
		// have one partition.
		GuaranteedOrder: true,
		Persistent:      true,
		// A new subscriber of a group resumes at the group's offsets.
		NewSubscriberReceivesOldMessages: false,
		RestartServiceCommand:            restart,
		GenerateTopicFunc:                func(tctx tests.TestContext) string { return prefix + "topic-" + string(tctx.TestID) },
	},
		func(t *testing.T) (message.Publisher, message.Subscriber) {
			return newPubSub(t, "suite-"+strings.NewReplacer("/", "-").Replace(t.Name()))
		},
		newPubSub,
	)
}
