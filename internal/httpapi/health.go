package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// readyTimeout bounds one readiness check.
const readyTimeout = 5 * time.Second

type healthBody struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
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
