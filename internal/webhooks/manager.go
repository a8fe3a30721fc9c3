package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/internal/messaging"
	"backlot.dev/backlot/policies"
	"backlot.dev/backlot/workflows/netguard"
)

// ConsumerPrefix names a subscription's consumer of the log (and its router handler).
const ConsumerPrefix = "webhook-"

// MaxAttempts is how many times an event is tried before it becomes a dead
// letter: about five minutes of retries.
const MaxAttempts = 120

// Config configures a Manager.
type Config struct {
	// Store keeps the subscriptions.
	Store Store
	// Log is the embedded event log the subscriptions consume; nil on Kafka.
	Log event.Log
	// Subscriber, when set, returns the subscriber a subscription's deliveries
	// read (on Kafka: a consumer group of its own starting at the topic's end);
	// by default a LogSubscriber over Log with its cursor in Store.
	Subscriber func(sub Subscription) (message.Subscriber, error)
	// Heads, with Subscriber, returns the log's heads: where a new
	// subscription starts.
	Heads func(ctx context.Context) (event.Positions, error)
	// Topic is the topic Subscriber subscribes to.
	Topic string
	// Deliver runs the deliveries in this process; without it the Manager only
	// manages subscriptions, and another process delivers.
	Deliver bool
	// SyncEvery is how often a delivering Manager looks for subscriptions
	// created or deleted by other processes; default 2s.
	SyncEvery time.Duration
	// Guard decides which addresses subscriptions may reach: Create refuses a
	// URL whose host is, or resolves only to, a refused address, and the
	// default Client dials through it. Default netguard.Default(): public
	// addresses only.
	Guard *netguard.Guard
	// Client sends the deliveries; default a netguard client on Guard with a
	// 10 s timeout, which follows no redirect.
	Client *http.Client
	// RetryInterval is the first pause between attempts; default 250 ms.
	RetryInterval time.Duration
	// MaxAttempts overrides the package constant, for tests.
	MaxAttempts int
	// Logger receives delivery failures; default slog.Default().
	Logger *slog.Logger
}

// Manager runs the subscriptions' deliveries.
type Manager struct {
	cfg    Config
	router *message.Router

	// changes makes each change of the running subscriptions whole: a sync,
	// a Create's store and start, a Delete's stop and forget. Interleaved,
	// a sync saw a subscription still stored whose handler a Delete had
	// taken out and was stopping, and started it again under the same
	// name, which the router refuses by panicking.
	changes sync.Mutex

	mu       sync.Mutex
	handlers map[string]*message.Handler
	ctx      context.Context
}

// Input is what a client sends to create a subscription.
type Input struct {
	URL    string `json:"url"`
	Filter string `json:"filter"`
	Secret string `json:"secret"`
}

// ValidationError is a subscription request that cannot be accepted: Field is
// the offending field of the Input (url, secret, filter).
type ValidationError struct {
	Field string
	Msg   string
}

// Error returns the message.
func (e *ValidationError) Error() string { return e.Msg }

// Is reports whether target is fault.Invalid.
func (e *ValidationError) Is(target error) bool { return target == fault.Invalid }

// Start builds the router, starts every stored subscription and delivers until
// ctx ends.
func Start(ctx context.Context, cfg Config) (*Manager, error) {
	if cfg.Guard == nil {
		cfg.Guard = netguard.Default()
	}
	if cfg.Client == nil {
		cfg.Client = netguard.NewClient(cfg.Guard, 10*time.Second)
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = 250 * time.Millisecond
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = MaxAttempts
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SyncEvery <= 0 {
		cfg.SyncEvery = 2 * time.Second
	}
	if cfg.Topic == "" {
		cfg.Topic = "events"
	}
	m := &Manager{cfg: cfg, handlers: map[string]*message.Handler{}, ctx: ctx}
	if !cfg.Deliver {
		return m, nil
	}
	r, err := messaging.NewRouter(messaging.RouterConfig{Logger: cfg.Logger, Poison: deadLetters{m}, PoisonTopic: "webhooks.dead-letters",
		MaxRetries: cfg.MaxAttempts - 1, RetryInterval: cfg.RetryInterval})
	if err != nil {
		return nil, err
	}
	m.router = r
	// Watermill closes a router once every handler has stopped: deleting
	// the last subscription would stop deliveries for good. This handler
	// lives as long as the router, so subscriptions may come and go.
	r.AddConsumerHandler(keepAlive, cfg.Topic, idleSubscriber{}, func(*message.Message) error { return nil })
	subs, err := cfg.Store.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, sub := range subs {
		if err := m.add(sub); err != nil {
			return nil, err
		}
	}
	go func() {
		if err := r.Run(ctx); err != nil && ctx.Err() == nil {
			cfg.Logger.Error("webhooks router stopped", "err", err)
		}
	}()
	<-r.Running()
	go m.syncLoop(ctx)
	return m, nil
}

// keepAlive names the router handler that keeps the router running while
// no subscription is.
const keepAlive = "webhooks-keep-alive"

// idleSubscriber is a message.Subscriber that never delivers: its channel
// closes when the router stops the handler.
type idleSubscriber struct{}

// Subscribe returns a channel that closes when ctx ends.
func (idleSubscriber) Subscribe(ctx context.Context, _ string) (<-chan *message.Message, error) {
	ch := make(chan *message.Message)
	go func() {
		<-ctx.Done()
		close(ch)
	}()
	return ch, nil
}

// Close does nothing: the channel closes with its context.
func (idleSubscriber) Close() error { return nil }

// syncLoop starts the subscriptions other processes created and stops those
// they deleted, until ctx ends.
func (m *Manager) syncLoop(ctx context.Context) {
	t := time.NewTicker(m.cfg.SyncEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := m.sync(ctx); err != nil && ctx.Err() == nil {
			m.cfg.Logger.Warn("webhooks: cannot read the subscriptions", "err", err)
		}
	}
}

func (m *Manager) sync(ctx context.Context) error {
	m.changes.Lock()
	defer m.changes.Unlock()
	subs, err := m.cfg.Store.List(ctx)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	added := false
	for _, sub := range subs {
		want[sub.ID] = true
		m.mu.Lock()
		_, running := m.handlers[sub.ID]
		m.mu.Unlock()
		if !running {
			if err := m.add(sub); err != nil {
				m.cfg.Logger.Warn("webhooks: cannot start a subscription", "subscription", sub.ID, "err", err)
				continue
			}
			added = true
		}
	}
	m.mu.Lock()
	var gone []*message.Handler
	for id, h := range m.handlers {
		if !want[id] {
			gone = append(gone, h)
			delete(m.handlers, id)
		}
	}
	m.mu.Unlock()
	for _, h := range gone {
		h.Stop()
	}
	if added {
		return m.router.RunHandlers(m.ctx)
	}
	return nil
}

// add starts a subscription's handler.
func (m *Manager) add(sub Subscription) error {
	filter, err := policies.CompileEventFilter(sub.Filter)
	if err != nil {
		return err
	}
	var subscriber message.Subscriber
	if m.cfg.Subscriber != nil {
		subscriber, err = m.cfg.Subscriber(sub)
	} else {
		subscriber, err = messaging.NewLogSubscriber(messaging.LogSubscriberConfig{Log: m.cfg.Log, Cursors: m.cfg.Store,
			Consumer: ConsumerPrefix + sub.ID, Logger: m.cfg.Logger, NackResendDelay: m.cfg.RetryInterval})
	}
	if err != nil {
		return err
	}
	start, err := event.ParsePositions(sub.Start)
	if err != nil {
		return fmt.Errorf("subscription %s: start: %w", sub.ID, err)
	}
	h := m.router.AddConsumerHandler(ConsumerPrefix+sub.ID, m.cfg.Topic, subscriber, func(msg *message.Message) error {
		ev, err := messaging.FromMessage(msg)
		if err != nil {
			return err
		}
		if ev.Position <= start[ev.Partition] {
			return nil // before the subscription began
		}
		if ok, _ := filter.Match(&ev); !ok {
			return nil
		}
		return m.deliver(msg.Context(), sub, &ev)
	})
	m.mu.Lock()
	m.handlers[sub.ID] = h
	m.mu.Unlock()
	return nil
}

// Create validates and stores a subscription, starting at the log's end.
func (m *Manager) Create(ctx context.Context, actor string, in Input) (Subscription, error) {
	u, err := url.Parse(in.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Subscription{}, &ValidationError{Field: "url", Msg: fmt.Sprintf("url %q: want an absolute http or https URL", in.URL)}
	}
	if err := m.checkTarget(ctx, u); err != nil {
		return Subscription{}, err
	}
	if len(in.Secret) < 16 {
		return Subscription{}, &ValidationError{Field: "secret", Msg: "secret: at least 16 characters, so signatures cannot be guessed"}
	}
	if _, err := policies.CompileEventFilter(in.Filter); err != nil {
		return Subscription{}, &ValidationError{Field: "filter", Msg: err.Error()}
	}
	var head int64
	var start string
	switch {
	case m.cfg.Log != nil:
		if head, err = m.cfg.Log.Head(ctx); err != nil {
			return Subscription{}, err
		}
	case m.cfg.Heads != nil:
		heads, err := m.cfg.Heads(ctx)
		if err != nil {
			return Subscription{}, err
		}
		start = heads.String()
	}
	sub := Subscription{ID: event.NewID(), URL: in.URL, Filter: in.Filter, Secret: in.Secret, CreatedAt: time.Now().UTC(), CreatedBy: actor, Cursor: head, Start: start}
	m.changes.Lock()
	defer m.changes.Unlock()
	if err := m.cfg.Store.Create(ctx, sub); err != nil {
		return Subscription{}, err
	}
	if !m.cfg.Deliver {
		return sub, nil // a delivering process starts it at its next sync
	}
	if err := m.add(sub); err != nil {
		return Subscription{}, err
	}
	if err := m.router.RunHandlers(m.ctx); err != nil {
		return Subscription{}, err
	}
	return sub, nil
}

// checkTarget refuses a URL whose host is a refused address or resolves only
// to refused addresses; a name that does not resolve yet is accepted (its
// deliveries are checked again at dial time).
func (m *Manager) checkTarget(ctx context.Context, u *url.URL) error {
	port := uint16(80)
	if u.Scheme == "https" {
		port = 443
	}
	if p, err := strconv.ParseUint(u.Port(), 10, 16); err == nil {
		port = uint16(p)
	}
	_, err := m.cfg.Guard.Resolve(ctx, "tcp", u.Hostname(), port)
	if refused, ok := errors.AsType[*netguard.RefusedError](err); ok {
		return &ValidationError{Field: "url", Msg: fmt.Sprintf("url %q: %s", u.Redacted(), refused)}
	}
	return nil
}

// Delete stops a subscription and forgets it.
func (m *Manager) Delete(ctx context.Context, id string) error {
	m.changes.Lock()
	defer m.changes.Unlock()
	m.mu.Lock()
	h := m.handlers[id]
	delete(m.handlers, id)
	m.mu.Unlock()
	if h != nil {
		h.Stop()
		<-h.Stopped()
	}
	return m.cfg.Store.Delete(ctx, id)
}

// Sign returns the Backlot-Signature header value of a body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// deliver POSTs the event; any answer but 2xx is an error, so it is retried.
func (m *Manager) deliver(ctx context.Context, sub Subscription, ev *event.Envelope) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/cloudevents+json")
	req.Header.Set("Backlot-Subscription", sub.ID)
	req.Header.Set("Backlot-Event-Id", ev.ID)
	req.Header.Set("Backlot-Signature", Sign(sub.Secret, time.Now(), body))
	resp, err := m.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("deliver %s to %s: %w", ev.ID, sub.URL, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("deliver %s to %s: %s", ev.ID, sub.URL, resp.Status)
	}
	return nil
}

// Replay delivers a dead letter once more and, when it goes through, removes it.
func (m *Manager) Replay(ctx context.Context, subID, eventID string) error {
	sub, err := m.cfg.Store.Get(ctx, subID)
	if err != nil {
		return err
	}
	letters, err := m.cfg.Store.DeadLetters(ctx, subID)
	if err != nil {
		return err
	}
	for _, d := range letters {
		if d.EventID != eventID {
			continue
		}
		var ev event.Envelope
		if err := json.Unmarshal(d.Event, &ev); err != nil {
			return err
		}
		if err := m.deliver(ctx, sub, &ev); err != nil {
			return &DeliveryError{Err: err}
		}
		return m.cfg.Store.DeleteDeadLetter(ctx, subID, eventID)
	}
	return fmt.Errorf("dead letter %s of subscription %s: %w", eventID, subID, ErrNotFound)
}

// DeliveryError is a replay the target refused.
type DeliveryError struct{ Err error }

// Error describes the failure.
func (e *DeliveryError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *DeliveryError) Unwrap() error { return e.Err }

// Is reports whether target is fault.Upstream: the target refused or failed.
func (e *DeliveryError) Is(target error) bool { return target == fault.Upstream }

// Store returns the store, for reads.
func (m *Manager) Store() Store { return m.cfg.Store }

// deadLetters is the router's poison queue: it records the message as a dead
// letter of the subscription whose handler gave up on it.
type deadLetters struct{ m *Manager }

func (d deadLetters) Publish(_ string, msgs ...*message.Message) error {
	for _, msg := range msgs {
		sub := msg.Metadata.Get(middleware.PoisonedHandlerKey)
		if len(sub) <= len(ConsumerPrefix) {
			return errors.New("dead letter without its subscription")
		}
		ev, err := messaging.FromMessage(msg)
		if err != nil {
			return err
		}
		raw, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		if err := d.m.cfg.Store.AddDeadLetter(context.Background(), sub[len(ConsumerPrefix):], DeadLetter{
			EventID: ev.ID, Reason: msg.Metadata.Get(middleware.ReasonForPoisonedKey), At: time.Now().UTC(), Event: raw,
		}); err != nil {
			return err
		}
		d.m.cfg.Logger.Warn("webhook delivery gave up; kept as a dead letter", "subscription", sub, "event", ev.ID)
	}
	return nil
}

func (deadLetters) Close() error { return nil }
