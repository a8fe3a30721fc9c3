package httpapi

import (
	"log/slog"
	"net/http"

	"backlot.dev/backlot/policies/permission"
	"backlot.dev/backlot/projections/catalogstore"
)

// catalogPrefix is where the catalog API is mounted.
const catalogPrefix = "/api/catalog"

// server holds the handlers' dependencies.
type server struct {
	reader  catalogstore.Reader
	writer  Writer
	log     *slog.Logger
	maxBody int64
	actor   func(*http.Request) string
	cfg     Config
	// perms decides every route's permission.
	perms *permission.Engine
	// table is every route with its access, as routes registers them.
	table []RouteAccess
	// denials bounds the denials recorded per principal.
	denials *denialLimiter
}

// New returns the HTTP handler of the catalog API under /api/catalog, with
// /healthz, /readyz and /metrics. It fails when cfg is invalid. The handler is
// safe for concurrent use; it counts every request by route pattern and status
// in the metrics it serves.
func New(cfg Config) (http.Handler, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	perms := cfg.Permissions
	if perms == nil {
		var err error
		if perms, err = permission.Default(nil); err != nil {
			return nil, err
		}
	}
	m, reg, err := newHTTPMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	s := &server{
		reader:  cfg.Reader,
		writer:  cfg.Writer,
		log:     cfg.Logger,
		maxBody: cfg.MaxBodyBytes,
		actor:   cfg.Actor,
		cfg:     cfg,
		perms:   perms,
		denials: &denialLimiter{},
	}
	mux := http.NewServeMux()
	s.routes(mux)
	mux.Handle("GET /metrics", metricsHandler(reg))
	s.table = append(s.table, RouteAccess{Pattern: "GET /metrics", Open: openMetrics})
	return m.wrap(s.recoverer(s.localGuard(s.requireContentType(s.authenticate(s.limitStreams(s.tokens(s.onlyListed(mux)))))))), nil
}

// handlerFunc is a handler that returns its error for writeError to answer.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// routes adds every API area's routes; each area's file holds its routes and
// handlers. Paths no route serves answer 404 NotFoundError.
func (s *server) routes(mux *http.ServeMux) {
	s.catalogRoutes(mux)
	s.locationRoutes(mux)
	s.auditRoutes(mux)
	s.feedRoutes(mux)
	s.webhookRoutes(mux)
	s.badgeRoutes(mux)
	s.scaffolderRoutes(mux)
	s.migrationRoutes(mux)
	s.gitRoutes(mux)
	s.permissionRoutes(mux)
	s.signInRoutes(mux)
	s.healthRoutes(mux)

	notFound := func(w http.ResponseWriter, r *http.Request) error {
		return notFoundError("No route for %s %s", r.Method, r.URL.Path)
	}
	for _, pattern := range []string{catalogPrefix + "/", catalogPrefix, "/"} {
		s.route(mux, pattern, openTo(openNoRoute), notFound)
	}
}

// recoverer answers a panicking handler with a 500 in Backstage's body, when
// nothing was written yet, and logs the panic.
func (s *server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("handler panicked", "method", r.Method, "url", r.URL.RequestURI(), "panic", v)
			if rec, ok := w.(*statusRecorder); ok && rec.wrote {
				panic(http.ErrAbortHandler)
			}
			writeErrorBody(w, r, http.StatusInternalServerError, "Error", "internal error")
		}()
		next.ServeHTTP(w, r)
	})
}
