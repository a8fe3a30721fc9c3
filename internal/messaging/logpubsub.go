package messaging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"backlot.dev/backlot/domain/event"
)

// LogMarshaler turns the messages of a topic into events of the embedded log
// and back, like the marshalers of Watermill's other pub/subs.
type LogMarshaler interface {
	// Marshal returns the event a message published to topic is appended as.
	Marshal(topic string, msg *message.Message) (event.Envelope, error)
	// Unmarshal returns the message an event is delivered as to a subscription
	// of topic; ok is false when the event is not one of topic's, and the
	// subscription passes over it.
	Unmarshal(topic string, ev event.Envelope) (msg *message.Message, ok bool, err error)
}

// EventMarshaler is the default LogMarshaler: messages are Backlot events
// (ToMessage and FromMessage) and every topic is the whole log, the one stream
// of `backlot dev`.
type EventMarshaler struct{}

var _ LogMarshaler = EventMarshaler{}

// Marshal returns the event the message carries (FromMessage); the topic is
// not recorded.
func (EventMarshaler) Marshal(_ string, msg *message.Message) (event.Envelope, error) {
	return FromMessage(msg)
}

// Unmarshal returns ToMessage(ev) for every topic.
func (EventMarshaler) Unmarshal(_ string, ev event.Envelope) (*message.Message, bool, error) {
	return ToMessage(ev), true, nil
}

// LogPublisher is a Watermill Publisher that appends messages to an event log
// as its Marshaler makes them events (by default EventMarshaler: the messages
// must be events made by ToMessage, and the topic names nothing). All
// messages of one Publish are appended atomically, in order.
type LogPublisher struct {
	// Log is the embedded event log.
	Log event.Log
	// Marshaler makes the events; nil is EventMarshaler.
	Marshaler LogMarshaler
}

var _ message.Publisher = LogPublisher{}

// Publish appends the messages' events in order: all of them or, on error,
// none.
func (p LogPublisher) Publish(topic string, msgs ...*message.Message) error {
	marshaler := p.Marshaler
	if marshaler == nil {
		marshaler = EventMarshaler{}
	}
	evs := make([]event.Envelope, 0, len(msgs))
	for _, m := range msgs {
		ev, err := marshaler.Marshal(topic, m)
		if err != nil {
			return fmt.Errorf("log publisher: topic %s: message %s: %w", topic, m.UUID, err)
		}
		ev.Position, ev.Partition = 0, 0
		evs = append(evs, ev)
	}
	ctx := context.Background()
	if len(msgs) > 0 && msgs[0].Context() != nil {
		ctx = msgs[0].Context()
	}
	_, err := p.Log.Append(ctx, evs)
	return err
}

// Close does nothing; the log belongs to its opener.
func (LogPublisher) Close() error { return nil }

// CursorStore keeps how far each consumer of the embedded log has got.
type CursorStore interface {
	// Load returns the consumer's last acknowledged position, zero when new.
	Load(ctx context.Context, consumer string) (int64, error)
	// Save records the consumer's last acknowledged position.
	Save(ctx context.Context, consumer string, pos int64) error
}

// LogSubscriberConfig configures a LogSubscriber.
type LogSubscriberConfig struct {
	// Log is the embedded event log.
	Log event.Log
	// Cursors keeps each consumer's position across restarts.
	Cursors CursorStore
	// Consumer names the cursor, like a consumer group on Kafka: subscribers
	// of one Consumer resume where any of them last acknowledged.
	Consumer string
	// Marshaler makes messages of the log's events; nil is EventMarshaler.
	Marshaler LogMarshaler
	// CursorPerTopic keeps a cursor per topic, named Consumer + "/" + topic,
	// for a Marshaler that gives each topic its own events. Without it every
	// subscription's cursor is named Consumer, as with EventMarshaler, whose
	// topics all read the same stream.
	CursorPerTopic bool
	// NackResendDelay is the pause before a nacked message is delivered again;
	// default 500ms.
	NackResendDelay time.Duration
	// Logger receives read errors; default slog.Default().
	Logger *slog.Logger
}

// LogSubscriber is a Watermill Subscriber over the embedded event log: the same
// delivery as KafkaSubscriber (one message at a time per subscription, in log
// order, the cursor saved on ack, a nacked message delivered again after
// NackResendDelay), for `backlot dev`. Delivery is at least once: a message
// acknowledged just before a crash, or by a subscriber that closes before its
// cursor is saved, comes again. Each message's context ends once it is acked
// or nacked, or when its subscription ends.
type LogSubscriber struct {
	cfg    LogSubscriberConfig
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var _ message.Subscriber = (*LogSubscriber)(nil)

// NewLogSubscriber returns a subscriber.
func NewLogSubscriber(cfg LogSubscriberConfig) (*LogSubscriber, error) {
	if cfg.Log == nil || cfg.Cursors == nil || cfg.Consumer == "" {
		return nil, errors.New("log subscriber: Log, Cursors and Consumer are required")
	}
	if cfg.NackResendDelay <= 0 {
		cfg.NackResendDelay = 500 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Marshaler == nil {
		cfg.Marshaler = EventMarshaler{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &LogSubscriber{cfg: cfg, ctx: ctx, cancel: cancel}, nil
}

// Subscribe delivers the topic's events (those the Marshaler makes messages of
// topic) after the consumer's cursor. The channel closes when ctx ends or the
// subscriber is closed.
func (s *LogSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if s.ctx.Err() != nil {
		return nil, errors.New("log subscriber: closed")
	}
	out := make(chan *message.Message)
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.ctx, cancel)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(out)
		defer cancel()
		defer stop()
		s.consume(ctx, topic, out)
	}()
	return out, nil
}

// cursor returns the name of a subscription's cursor.
func (s *LogSubscriber) cursor(topic string) string {
	if s.cfg.CursorPerTopic {
		return s.cfg.Consumer + "/" + topic
	}
	return s.cfg.Consumer
}

func (s *LogSubscriber) pause(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(s.cfg.NackResendDelay):
		return true
	}
}

func (s *LogSubscriber) consume(ctx context.Context, topic string, out chan<- *message.Message) {
	cursor := s.cursor(topic)
	var pos int64
	for {
		p, err := s.cfg.Cursors.Load(ctx, cursor)
		if err == nil {
			pos = p
			break
		}
		s.cfg.Logger.Warn("log subscriber: cannot load cursor; retrying", "consumer", cursor, "err", err)
		if !s.pause(ctx) {
			return
		}
	}
	for ctx.Err() == nil {
		batch, err := s.cfg.Log.Read(ctx, pos, 500)
		if err != nil {
			s.cfg.Logger.Warn("log subscriber: read failed; retrying", "consumer", cursor, "err", err)
			if !s.pause(ctx) {
				return
			}
			continue
		}
		if len(batch) == 0 {
			if _, err := s.cfg.Log.Wait(ctx, pos); err != nil && ctx.Err() == nil {
				s.pause(ctx)
			}
			continue
		}
		for _, ev := range batch {
			if !s.deliver(ctx, topic, cursor, ev, out) {
				return
			}
			pos = ev.Position
		}
	}
}

// deliver hands one event out until it is acked, and saves the cursor. An
// event that is not the topic's, or that the Marshaler cannot read (logged),
// is passed over; the cursor moves past it with the next ack.
func (s *LogSubscriber) deliver(ctx context.Context, topic, cursor string, ev event.Envelope, out chan<- *message.Message) bool {
	for {
		msg, ok, err := s.cfg.Marshaler.Unmarshal(topic, ev)
		if err != nil {
			s.cfg.Logger.Warn("log subscriber: cannot read an event; passed over", "consumer", cursor, "event", ev.ID, "position", ev.Position, "err", err)
			return true
		}
		if !ok {
			return true
		}
		msgCtx, done := context.WithCancel(ctx)
		msg.SetContext(msgCtx)
		select {
		case out <- msg:
		case <-ctx.Done():
			done()
			return false
		}
		select {
		case <-msg.Acked():
			done()
			for {
				err := s.cfg.Cursors.Save(ctx, cursor, ev.Position)
				if err == nil {
					return true
				}
				s.cfg.Logger.Warn("log subscriber: cannot save cursor; retrying", "consumer", cursor, "err", err)
				if !s.pause(ctx) {
					return false
				}
			}
		case <-msg.Nacked():
			done()
			if !s.pause(ctx) {
				return false
			}
		case <-ctx.Done():
			done()
			select {
			case <-msg.Acked():
				// Acked as the subscription ended: keep the place, one try.
				if err := s.cfg.Cursors.Save(context.WithoutCancel(ctx), cursor, ev.Position); err != nil {
					s.cfg.Logger.Warn("log subscriber: cannot save cursor at close", "consumer", cursor, "err", err)
				}
			default:
			}
			return false
		}
	}
}

// Close ends every subscription.
func (s *LogSubscriber) Close() error {
	s.cancel()
	s.wg.Wait()
	return nil
}
