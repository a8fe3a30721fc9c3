package messaging

import (
	"errors"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/components/metrics"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/prometheus/client_golang/prometheus"
)

// PoisonTopic is the default topic of messages a handler failed on after every
// retry, with the reason in their metadata.
const PoisonTopic = "catalog.poison.v1"

// RouterConfig configures NewRouter.
type RouterConfig struct {
	// Logger receives the router's log; default slog.Default().
	Logger *slog.Logger
	// Registry receives the handler, publisher and subscriber metrics; nil
	// leaves metrics out.
	Registry prometheus.Registerer
	// Poison receives the messages a handler failed on after every retry; nil
	// leaves the poison queue out, so such a message stops its handler.
	Poison message.Publisher
	// PoisonTopic is the topic Poison publishes to; default PoisonTopic.
	PoisonTopic string
	// MaxRetries is how often a failed message is retried before it goes to the
	// poison queue; default 5.
	MaxRetries int
	// RetryInterval is the first pause between retries, doubled each time up to
	// ten times it; default 100ms.
	RetryInterval time.Duration
}

// NewRouter returns a Watermill router whose handlers all run under, from the
// outside in: correlation-id propagation, Prometheus metrics, the poison queue,
// retry with exponential backoff, and panic recovery (a panic becomes an error
// that is retried, then poisoned, instead of killing the process).
func NewRouter(cfg RouterConfig) (*message.Router, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PoisonTopic == "" {
		cfg.PoisonTopic = PoisonTopic
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = 5
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = 100 * time.Millisecond
	}
	r, err := message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, watermill.NewSlogLogger(cfg.Logger))
	if err != nil {
		return nil, err
	}
	r.AddMiddleware(middleware.CorrelationID)
	if cfg.Registry != nil {
		metrics.NewPrometheusMetricsBuilder(cfg.Registry, "backlot", "handlers").AddPrometheusRouterMetrics(r)
	}
	if cfg.Poison != nil {
		poison, err := middleware.PoisonQueue(cfg.Poison, cfg.PoisonTopic)
		if err != nil {
			return nil, errors.Join(errors.New("poison queue"), err)
		}
		r.AddMiddleware(poison)
	}
	r.AddMiddleware(
		middleware.Retry{
			MaxRetries:      cfg.MaxRetries,
			InitialInterval: cfg.RetryInterval,
			MaxInterval:     10 * cfg.RetryInterval,
			Multiplier:      2,
			Logger:          watermill.NewSlogLogger(cfg.Logger),
		}.Middleware,
		middleware.Recoverer,
	)
	return r, nil
}
