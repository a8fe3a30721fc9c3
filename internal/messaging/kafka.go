package messaging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/segmentio/kafka-go"
)

// metaUUID is the header that carries a message's Watermill UUID on Kafka.
const metaUUID = "_watermill_message_uuid"

// KafkaPublisherConfig configures a KafkaPublisher.
type KafkaPublisherConfig struct {
	// Brokers are the bootstrap brokers.
	Brokers []string
	// BatchTimeout bounds how long a write waits to fill a batch; default 5ms
	// (kafka-go's own default, one second, would delay every publish).
	BatchTimeout time.Duration
	// Transport overrides kafka-go's default transport (TLS, SASL).
	Transport kafka.RoundTripper
}

// KafkaPublisher is a Watermill Publisher that writes to Kafka through kafka-go.
// The message key is the MetaKey metadata (the subject), so one entity's
// messages keep their order; every other metadata entry becomes a header. An
// empty payload is written as a null value: a tombstone on a compacted topic.
// Writes wait for all in-sync replicas.
type KafkaPublisher struct {
	w *kafka.Writer
}

var _ message.Publisher = (*KafkaPublisher)(nil)

// NewKafkaPublisher returns a publisher; it connects on the first Publish.
func NewKafkaPublisher(cfg KafkaPublisherConfig) (*KafkaPublisher, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("kafka publisher: no brokers")
	}
	if cfg.BatchTimeout <= 0 {
		cfg.BatchTimeout = 5 * time.Millisecond
	}
	w := &kafka.Writer{
		Addr:         kafka.TCP(cfg.Brokers...),
		Balancer:     kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: cfg.BatchTimeout,
		Transport:    cfg.Transport,
	}
	return &KafkaPublisher{w: w}, nil
}

// Publish writes the messages to topic, in order, and returns once every one is
// acknowledged.
func (p *KafkaPublisher) Publish(topic string, msgs ...*message.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	out := make([]kafka.Message, len(msgs))
	for i, m := range msgs {
		km := kafka.Message{Topic: topic, Key: []byte(m.Metadata.Get(MetaKey))}
		if len(km.Key) == 0 {
			km.Key = []byte(m.UUID)
		}
		if len(m.Payload) > 0 {
			km.Value = m.Payload
		}
		km.Headers = append(km.Headers, kafka.Header{Key: metaUUID, Value: []byte(m.UUID)})
		for k, v := range m.Metadata {
			if k == MetaKey || k == MetaPartition || k == MetaPosition {
				continue
			}
			km.Headers = append(km.Headers, kafka.Header{Key: k, Value: []byte(v)})
		}
		out[i] = km
	}
	ctx := context.Background()
	if len(msgs) > 0 && msgs[0].Context() != nil {
		ctx = msgs[0].Context()
	}
	if err := p.w.WriteMessages(ctx, out...); err != nil {
		return fmt.Errorf("kafka publisher: topic %s: %w", topic, err)
	}
	return nil
}

// Close flushes and closes the writer.
func (p *KafkaPublisher) Close() error { return p.w.Close() }

// KafkaSubscriberConfig configures a KafkaSubscriber.
type KafkaSubscriberConfig struct {
	// Brokers are the bootstrap brokers.
	Brokers []string
	// GroupID is the consumer group; the processes of one group share the
	// topic's partitions and resume from the group's committed offsets.
	GroupID string
	// NackResendDelay is the pause before a nacked message is delivered again;
	// default 500ms.
	NackResendDelay time.Duration
	// Logger receives read errors; default slog.Default().
	Logger *slog.Logger
	// Dialer overrides kafka-go's default dialer (TLS, SASL).
	Dialer *kafka.Dialer
	// SessionTimeout is how long the group waits for a silent member before
	// it gives the member's partitions to others, and how long a rebalance
	// waits for members to rejoin; readers heartbeat ten times in it. Default
	// 10s; brokers refuse less than their group.min.session.timeout.ms (6s by
	// default).
	SessionTimeout time.Duration
}

// KafkaSubscriber is a Watermill Subscriber over a kafka-go consumer group. It
// delivers one message at a time per subscription and commits its offset when it
// is acked; a nacked message is delivered again, so the topic's order per
// partition holds and delivery is at least once. Each message's context ends
// once it is acked or nacked, or when its subscription ends.
type KafkaSubscriber struct {
	cfg KafkaSubscriberConfig

	mu        sync.Mutex
	closed    bool
	closeErrs []error
	wg        sync.WaitGroup
	cancel    context.CancelFunc
	ctx       context.Context
}

var _ message.Subscriber = (*KafkaSubscriber)(nil)

// NewKafkaSubscriber returns a subscriber.
func NewKafkaSubscriber(cfg KafkaSubscriberConfig) (*KafkaSubscriber, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("kafka subscriber: no brokers")
	}
	if cfg.GroupID == "" {
		return nil, errors.New("kafka subscriber: a consumer group is required")
	}
	if cfg.NackResendDelay <= 0 {
		cfg.NackResendDelay = 500 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = 10 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &KafkaSubscriber{cfg: cfg, ctx: ctx, cancel: cancel}, nil
}

// Subscribe starts consuming topic in the subscriber's group, with a reader of
// its own that joins the group. The channel closes, and the reader leaves the
// group, when ctx ends or the subscriber is closed.
func (s *KafkaSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("kafka subscriber: closed")
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:           s.cfg.Brokers,
		GroupID:           s.cfg.GroupID,
		Topic:             topic,
		MinBytes:          1,
		MaxBytes:          10 << 20,
		MaxWait:           250 * time.Millisecond,
		StartOffset:       kafka.FirstOffset,
		HeartbeatInterval: s.cfg.SessionTimeout / 10,
		SessionTimeout:    s.cfg.SessionTimeout,
		RebalanceTimeout:  s.cfg.SessionTimeout,
		Dialer:            s.cfg.Dialer,
	})
	out := make(chan *message.Message)
	ctx, cancel := context.WithCancel(ctx)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(out)
		defer cancel()
		stop := context.AfterFunc(s.ctx, cancel)
		defer stop()
		s.consume(ctx, r, topic, out)
		// The reader leaves the group as its subscription ends, so that its
		// partitions go to the group's other members at once.
		if err := r.Close(); err != nil {
			s.mu.Lock()
			s.closeErrs = append(s.closeErrs, fmt.Errorf("kafka subscriber: topic %s: close reader: %w", topic, err))
			s.mu.Unlock()
		}
	}()
	return out, nil
}

func (s *KafkaSubscriber) consume(ctx context.Context, r *kafka.Reader, topic string, out chan<- *message.Message) {
	for {
		km, err := r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.cfg.Logger.Warn("kafka subscriber: fetch failed; retrying", "topic", topic, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(s.cfg.NackResendDelay):
			}
			continue
		}
		for {
			msg := fromKafka(km)
			msgCtx, done := context.WithCancel(ctx)
			msg.SetContext(msgCtx)
			select {
			case out <- msg:
			case <-ctx.Done():
				done()
				return
			}
			select {
			case <-msg.Acked():
				done()
			case <-msg.Nacked():
				done()
				select {
				case <-ctx.Done():
					return
				case <-time.After(s.cfg.NackResendDelay):
				}
				continue // deliver the same message again
			case <-ctx.Done():
				done()
				return
			}
			if err := r.CommitMessages(ctx, km); err != nil && ctx.Err() == nil {
				s.cfg.Logger.Warn("kafka subscriber: commit failed", "topic", topic, "partition", km.Partition, "offset", km.Offset, "err", err)
			}
			break
		}
	}
}

// fromKafka makes a Watermill message of a Kafka record: headers become
// metadata, the key MetaKey, and the partition and offset + 1 MetaPartition and
// MetaPosition.
func fromKafka(km kafka.Message) *message.Message {
	uuid := ""
	md := make(message.Metadata, len(km.Headers)+3)
	for _, h := range km.Headers {
		if h.Key == metaUUID {
			uuid = string(h.Value)
			continue
		}
		md.Set(h.Key, string(h.Value))
	}
	if uuid == "" {
		uuid = md.Get(MetaID)
	}
	if uuid == "" {
		uuid = fmt.Sprintf("%s/%d/%d", km.Topic, km.Partition, km.Offset)
	}
	msg := message.NewMessage(uuid, km.Value)
	md.Set(MetaKey, string(km.Key))
	md.Set(MetaPartition, strconv.Itoa(km.Partition))
	md.Set(MetaPosition, strconv.FormatInt(km.Offset+1, 10))
	msg.Metadata = md
	return msg
}

// Close stops every subscription, waits until their readers have left the
// group, and returns the errors of closing them.
func (s *KafkaSubscriber) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.closeErrs...)
}
