package messaging_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
	"backlot.dev/backlot/internal/messaging"
)

func createTopic(t *testing.T, brokers []string, topic string, partitions int) {
	t.Helper()
	c := &kafka.Client{Addr: kafka.TCP(brokers...)}
	resp, err := c.CreateTopics(t.Context(), &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: topic, NumPartitions: partitions, ReplicationFactor: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Errors[topic]; err != nil {
		t.Fatal(err)
	}
}

// TestKafkaPubSubCarriesEventsAsCloudEventsAndRedeliversNacks publishes events
// through the kafka-go publisher and reads them through the consumer-group
// subscriber: attributes survive, the headers are CloudEvents binary mode, one
// subject keeps its order, a nacked message comes again, and an empty payload is
// a null value (a tombstone).
func TestKafkaPubSubCarriesEventsAsCloudEventsAndRedeliversNacks(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	topic := kafkatest.TopicPrefix(t) + "pubsub"
	createTopic(t, brokers, topic, 3)
	pub, err := messaging.NewKafkaPublisher(messaging.KafkaPublisherConfig{Brokers: brokers})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	evs := events(t, 6, "component:default/a")
	for _, ev := range evs {
		if err := pub.Publish(topic, messaging.ToMessage(ev)); err != nil {
			t.Fatal(err)
		}
	}
	tomb := messaging.ToMessage(evs[0])
	tomb.Payload = nil
	tomb.UUID = "tombstone"
	if err := pub.Publish(topic, tomb); err != nil {
		t.Fatal(err)
	}

	// The raw records: binary-mode headers, data as the value, subject as the key.
	conn, err := kafka.DialLeader(t.Context(), "tcp", brokers[0], topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	batch := conn.ReadBatch(1, 1<<20)
	raw, err := batch.ReadMessage()
	if err != nil {
		t.Fatalf("read partition 0: %v", err)
	}
	batch.Close()
	conn.Close()
	headers := map[string]string{}
	for _, h := range raw.Headers {
		headers[h.Key] = string(h.Value)
	}
	for _, k := range []string{"ce_id", "ce_source", "ce_specversion", "ce_type", "ce_subject", "ce_time", "ce_actor", "ce_commit", "ce_correlationid", "content-type"} {
		if headers[k] == "" {
			t.Errorf("record header %s missing: %v", k, headers)
		}
	}
	if string(raw.Key) != headers["ce_subject"] {
		t.Errorf("record key %q, want the subject %q", raw.Key, headers["ce_subject"])
	}
	if i := indexOf(evs, headers["ce_id"]); i >= 0 && string(raw.Value) != string(evs[i].Data) {
		t.Errorf("record value %s, want the event data %s", raw.Value, evs[i].Data)
	}

	sub, err := messaging.NewKafkaSubscriber(messaging.KafkaSubscriberConfig{Brokers: brokers, GroupID: topic + "-group", NackResendDelay: time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	ch, err := sub.Subscribe(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	perSubject := map[string][]string{}
	nacked := false
	tombstones := 0
	for got := 0; got < len(evs)+1; {
		var m = <-ch
		if m == nil {
			t.Fatalf("subscription ended after %d messages", got)
		}
		if m.UUID == "tombstone" {
			if len(m.Payload) != 0 {
				t.Fatalf("tombstone payload %q", m.Payload)
			}
			tombstones++
			got++
			m.Ack()
			continue
		}
		ev, err := messaging.FromMessage(m)
		if err != nil {
			t.Fatal(err)
		}
		if !nacked {
			nacked = true
			m.Nack()
			continue
		}
		if ev.Position <= 0 {
			t.Fatalf("delivered event without a position: %+v", ev)
		}
		perSubject[ev.Subject] = append(perSubject[ev.Subject], ev.ID)
		want := evs[indexOf(evs, ev.ID)]
		a, _ := json.Marshal(want)
		b, _ := json.Marshal(ev)
		if string(a) != string(b) {
			t.Fatalf("event changed on the way:\n%s\n%s", a, b)
		}
		got++
		m.Ack()
	}
	if tombstones != 1 {
		t.Fatalf("%d tombstones", tombstones)
	}
	for subject, ids := range perSubject {
		last := -1
		for _, id := range ids {
			i := indexOf(evs, id)
			if i < last {
				t.Fatalf("subject %s out of order: %v", subject, ids)
			}
			last = i
		}
	}
	if n := len(perSubject["component:default/a-0"]) + len(perSubject["component:default/a-1"]) + len(perSubject["component:default/a-2"]); n != len(evs) {
		t.Fatalf("received %d distinct deliveries, want %d (the nacked one once more)", n, len(evs))
	}
}

func indexOf(evs []event.Envelope, id string) int {
	for i := range evs {
		if evs[i].ID == id {
			return i
		}
	}
	return -1
}
