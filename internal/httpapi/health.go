package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// readyTimeout bounds one readiness check.
const readyTimeout = 5 * time.Second

type healthBody struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// healthRoutes adds /healthz and /readyz; New adds /metrics.
func (s *server) healthRoutes(mux *http.ServeMux) {
	s.route(mux, "GET /healthz", openTo(openHealth), func(w http.ResponseWriter, r *http.Request) error { s.healthz(w, r); return nil })
	s.route(mux, "GET /readyz", openTo(openHealth), func(w http.ResponseWriter, r *http.Request) error { s.readyz(w, r); return nil })
}

// healthz answers 200 while the process serves.
func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, healthBody{Status: "ok"})
}

// readyz answers 200 when Config.Ready reports no error, else 503 with the reason.
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, healthBody{Status: "unavailable", Reason: err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, healthBody{Status: "ok"})
}

// HealthHandler serves only /healthz, /readyz (with ready; nil means always
// ready) and /metrics (from reg): what a process without the API serves.
func HealthHandler(ready func(context.Context) error, reg *prometheus.Registry) http.Handler {
	s := &server{cfg: Config{Ready: ready}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", metricsHandler(reg))
	return mux
}

// httpMetrics counts requests by route pattern and status and times them.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

// newHTTPMetrics registers the HTTP metrics in reg, or in a new registry with the
// Go and process collectors when reg is nil. Registering twice in the same
// registry reuses the metrics registered first.
func newHTTPMetrics(reg *prometheus.Registry) (*httpMetrics, *prometheus.Registry, error) {
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "backlot_http_requests_total",
			Help: "HTTP requests answered, by method, route pattern and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "backlot_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by method and route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "backlot_http_requests_in_flight",
			Help: "HTTP requests being answered.",
		}),
	}
	var err error
	m.requests, err = register(reg, m.requests)
	if err != nil {
		return nil, nil, err
	}
	m.duration, err = register(reg, m.duration)
	if err != nil {
		return nil, nil, err
	}
	m.inFlight, err = register(reg, m.inFlight)
	if err != nil {
		return nil, nil, err
	}
	return m, reg, nil
}

// register adds c to reg, or returns the equal collector registered before.
func register[C prometheus.Collector](reg *prometheus.Registry, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, err
	}
	return c, nil
}

func metricsHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// knownMethods bounds the method label.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// wrap records every request. The route label is the pattern the request matched
// without its method, so its values are bounded by the routes.
func (m *httpMetrics) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		m.inFlight.Inc()
		defer func() {
			m.inFlight.Dec()
			status := rec.status
			if status == 0 {
				status = http.StatusOK
				if r.Context().Err() != nil {
					status = statusClientClosed
				}
			}
			route := r.Pattern
			if _, path, ok := strings.Cut(route, " "); ok {
				route = path
			}
			if route == "" {
				route = "unmatched"
			}
			method := r.Method
			if !knownMethods[method] {
				method = "other"
			}
			m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
			m.duration.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(rec, r)
	})
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

// WriteHeader records the status code.
func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200 status.
func (r *statusRecorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.status, r.wrote = http.StatusOK, true
	}
	return r.ResponseWriter.Write(b)
}

// Flush passes flushes through, for streamed responses.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
