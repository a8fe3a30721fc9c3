package messaging

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"backlot.dev/backlot/domain/event"
)

// LogPublisher is a Watermill Publisher that appends event messages (made by
// ToMessage) to an event log. The topic names nothing: the embedded log is one
// stream. All messages of one Publish are appended atomically.
type LogPublisher struct {
	Log event.Log
}

var _ message.Publisher = LogPublisher{}

// Publish appends the messages' events in order.
func (p LogPublisher) Publish(_ string, msgs ...*message.Message) error {
	evs := make([]event.Envelope, 0, len(msgs))
	for _, m := range msgs {
		ev, err := FromMessage(m)
		if err != nil {
			return err
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
	// Consumer names the cursor, like a consumer group on Kafka.
	Consumer string
	// NackResendDelay is the pause before a nacked message is delivered again;
	// default 500ms.
	NackResendDelay time.Duration
	// Logger receives read errors; default slog.Default().
	Logger *slog.Logger
}

// LogSubscriber is a Watermill Subscriber over the embedded event log: the same
// delivery as KafkaSubscriber (one message at a time, in log order, the cursor
// saved on ack, a nacked message delivered again), for `backlot dev`.
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
	ctx, cancel := context.WithCancel(context.Background())
	return &LogSubscriber{cfg: cfg, ctx: ctx, cancel: cancel}, nil
}

// Subscribe delivers the log's events after the consumer's cursor. The topic is
// recorded in each message's context only; the embedded log is one stream.
func (s *LogSubscriber) Subscribe(ctx context.Context, _ string) (<-chan *message.Message, error) {
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
		s.consume(ctx, out)
	}()
	return out, nil
}

func (s *LogSubscriber) pause(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(s.cfg.NackResendDelay):
		return true
	}
}

func (s *LogSubscriber) consume(ctx context.Context, out chan<- *message.Message) {
	var pos int64
	for {
		p, err := s.cfg.Cursors.Load(ctx, s.cfg.Consumer)
		if err == nil {
			pos = p
			break
		}
		s.cfg.Logger.Warn("log subscriber: cannot load cursor; retrying", "consumer", s.cfg.Consumer, "err", err)
		if !s.pause(ctx) {
			return
		}
	}
	for ctx.Err() == nil {
		batch, err := s.cfg.Log.Read(ctx, pos, 500)
		if err != nil {
			s.cfg.Logger.Warn("log subscriber: read failed; retrying", "consumer", s.cfg.Consumer, "err", err)
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
			if !s.deliver(ctx, ev, out) {
				return
			}
			pos = ev.Position
		}
	}
}

// deliver hands one event out until it is acked, and saves the cursor.
func (s *LogSubscriber) deliver(ctx context.Context, ev event.Envelope, out chan<- *message.Message) bool {
	for {
		msg := ToMessage(ev)
		msg.SetContext(ctx)
		select {
		case out <- msg:
		case <-ctx.Done():
			return false
		}
		select {
		case <-msg.Acked():
			for {
				err := s.cfg.Cursors.Save(ctx, s.cfg.Consumer, ev.Position)
				if err == nil {
					return true
				}
				s.cfg.Logger.Warn("log subscriber: cannot save cursor; retrying", "consumer", s.cfg.Consumer, "err", err)
				if !s.pause(ctx) {
					return false
				}
			}
		case <-msg.Nacked():
			if !s.pause(ctx) {
				return false
			}
		case <-ctx.Done():
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

// FileCursors is a CursorStore in one JSON file, replaced atomically on each save.
type FileCursors struct {
	path string
	mu   sync.Mutex
	m    map[string]int64
}

// NewFileCursors reads (or starts) the cursor file at path.
func NewFileCursors(path string) (*FileCursors, error) {
	c := &FileCursors{path: path, m: map[string]int64{}}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return c, nil
	case err != nil:
		return nil, fmt.Errorf("cursors: %w", err)
	}
	if err := json.Unmarshal(b, &c.m); err != nil {
		return nil, fmt.Errorf("cursors %s: %w", path, err)
	}
	return c, nil
}

// Path returns the file the cursors are kept in.
func (c *FileCursors) Path() string { return c.path }

// Load returns the consumer's position.
func (c *FileCursors) Load(_ context.Context, consumer string) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[consumer], nil
}

// Save records the consumer's position and writes the file.
func (c *FileCursors) Save(_ context.Context, consumer string, pos int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[consumer] = pos
	b, err := json.Marshal(c.m)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path), ".cursors-*")
	if err != nil {
		return fmt.Errorf("cursors: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("cursors: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cursors: %w", err)
	}
	return os.Rename(tmp.Name(), c.path)
}
