package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/internal/webhooks"
	"backlot.dev/backlot/projections/catalogstore"
)

func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct{ method, path string }{
		{http.MethodGet, "/api/catalog/nope"},
		{http.MethodGet, "/api/catalog"},
		{http.MethodPut, "/api/catalog/entities"},
		{http.MethodGet, "/api/catalog/entities/by-name/component/default"},
		{http.MethodGet, "/elsewhere"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			r := send(t, mustRequest(t, tt.method, f.srv.URL+tt.path)).mustStatus(t, http.StatusNotFound)
			jsonEqual(t, r.body, fmt.Sprintf(`{"error":{"name":"NotFoundError","message":"No route for %s %s"},
				"request":{"method":%q,"url":%q},"response":{"statusCode":404}}`, tt.method, tt.path, tt.method, tt.path))
		})
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.MaxBodyBytes = 256 })
	big := `{"type":"url","target":"` + strings.Repeat("x", 1024) + `"}`
	tests := []struct {
		name string
		body func() io.Reader
	}{
		{"declared length", func() io.Reader { return strings.NewReader(big) }},
		// A reader of unknown length makes the client send the body chunked.
		{"chunked", func() io.Reader { return io.MultiReader(strings.NewReader(big)) }},
	}
	for _, path := range []string{"/locations", "/entities/by-refs", "/refresh", "/validate-entity"} {
		for _, tt := range tests {
			t.Run(path+" "+tt.name, func(t *testing.T) {
				t.Parallel()
				req, err := http.NewRequest(http.MethodPost, f.url(path), tt.body())
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				name, msg := send(t, req).mustStatus(t, http.StatusRequestEntityTooLarge).errorOf(t)
				if name != "PayloadTooLargeError" || !strings.Contains(msg, "limit of 256 bytes") {
					t.Errorf("got %s %q", name, msg)
				}
			})
		}
	}
	t.Run("small bodies pass", func(t *testing.T) {
		t.Parallel()
		f.call(t, http.MethodPost, "/locations", `{"target":"x"}`).mustStatus(t, http.StatusCreated)
	})
}

func TestWriterErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantName   string
		wantMsg    string
	}{
		{"forbidden", fault.New(fault.Forbidden, "https://elsewhere", "target is outside the allowed hosts"),
			http.StatusForbidden, "NotAllowedError", "target is outside the allowed hosts"},
		{"wrapped conflict", fmt.Errorf("register: %w", fault.New(fault.Conflict, "url:x", "location exists")),
			http.StatusConflict, "ConflictError", "register: location exists"},
		{"invalid", fault.New(fault.Invalid, "target", "target is empty"), http.StatusBadRequest, "InputError", "target is empty"},
		{"unauthenticated", fault.New(fault.Unauthenticated, "", "no token"), http.StatusUnauthorized, "AuthenticationError", "no token"},
		{"unavailable", fmt.Errorf("register: %w", fault.Wrap(fault.Unavailable, "", errors.New("event log: down"))),
			http.StatusServiceUnavailable, "ServiceUnavailableError", "register: event log: down"},
		{"upstream", fault.New(fault.Upstream, "http://hook", "target answered 500"), http.StatusBadGateway, "DeliveryError", "target answered 500"},
		{"not found of another store", fmt.Errorf("subscription x: %w", webhooks.ErrNotFound), http.StatusNotFound, "NotFoundError", "subscription x: not found"},
		{"not found", fmt.Errorf("location x: %w", catalogstore.ErrNotFound), http.StatusNotFound, "NotFoundError", "location x: not found"},
		{"not allowed", fmt.Errorf("file /etc/passwd: %w", catalog.ErrNotAllowed), http.StatusForbidden, "NotAllowedError", "/etc/passwd: not allowed"},
		{"validation", &catalog.ValidationError{Entity: "component:default/x", Fields: []catalog.FieldError{{Field: "spec.owner", Message: "is required"}}},
			http.StatusBadRequest, "InputError", "component:default/x: spec.owner: is required"},
		{"deadline", fmt.Errorf("waiting for the read model: %w", context.DeadlineExceeded),
			http.StatusServiceUnavailable, "ServiceUnavailableError", "waiting for the read model"},
		{"anything else", errors.New("disk on fire"), http.StatusInternalServerError, "Error", "disk on fire"},
		{"impossible status", &apiError{status: 200, name: "Odd", message: "odd"}, http.StatusInternalServerError, "Odd", "odd"},
	}
	calls := []struct{ method, path, body string }{
		{http.MethodPost, "/locations", `{"target":"x"}`},
		{http.MethodDelete, "/locations/x", ""},
		{http.MethodDelete, "/entities/by-uid/x", ""},
		{http.MethodPost, "/refresh", `{"entityRef":"component:x"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.writer.setErr(tt.err)
			for _, c := range calls {
				name, msg := f.call(t, c.method, c.path, c.body).mustStatus(t, tt.wantStatus).errorOf(t)
				if name != tt.wantName || !strings.Contains(msg, tt.wantMsg) {
					t.Errorf("%s %s: got %s %q, want %s %q", c.method, c.path, name, msg, tt.wantName, tt.wantMsg)
				}
			}
		})
	}
}

// failingReader is a Reader whose queries fail.
type failingReader struct {
	catalogstore.Reader
	err error
}

func (r failingReader) Query(ctx context.Context, q catalogstore.PageQuery) (catalogstore.Page, error) {
	return catalogstore.Page{}, r.err
}

func TestReaderErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) {
		c.Reader = failingReader{Reader: c.Reader, err: fmt.Errorf("query: %w", context.DeadlineExceeded)}
	})
	for _, path := range []string{"/entities", "/entities?limit=3", "/entities/by-query"} {
		name, _ := f.get(t, path).mustStatus(t, http.StatusServiceUnavailable).errorOf(t)
		if name != "ServiceUnavailableError" {
			t.Errorf("%s: got %s", path, name)
		}
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	ready := errors.New("catalog read model is 40 events behind")
	f := newFixture(t, func(c *Config) {
		c.Ready = func(context.Context) error { return ready }
	})
	jsonEqual(t, send(t, mustRequest(t, http.MethodGet, f.srv.URL+"/healthz")).mustStatus(t, http.StatusOK).body, `{"status":"ok"}`)
	jsonEqual(t, send(t, mustRequest(t, http.MethodGet, f.srv.URL+"/readyz")).mustStatus(t, http.StatusServiceUnavailable).body,
		`{"status":"unavailable","reason":"catalog read model is 40 events behind"}`)

	g := newFixture(t)
	jsonEqual(t, send(t, mustRequest(t, http.MethodGet, g.srv.URL+"/readyz")).mustStatus(t, http.StatusOK).body, `{"status":"ok"}`)
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	f := newFixture(t, func(c *Config) { c.Registry = reg })
	f.get(t, "/entities/by-name/component/default/checkout").mustStatus(t, http.StatusOK)
	f.get(t, "/entities/by-name/component/default/nope").mustStatus(t, http.StatusNotFound)
	f.get(t, "/no/such/route").mustStatus(t, http.StatusNotFound)
	body := string(send(t, mustRequest(t, http.MethodGet, f.srv.URL+"/metrics")).mustStatus(t, http.StatusOK).body)
	for _, want := range []string{
		`backlot_http_requests_total{code="200",method="GET",route="/api/catalog/entities/by-name/{kind}/{namespace}/{name}"} 1`,
		`backlot_http_requests_total{code="404",method="GET",route="/api/catalog/entities/by-name/{kind}/{namespace}/{name}"} 1`,
		`backlot_http_requests_total{code="404",method="GET",route="/api/catalog/"} 1`,
		`backlot_http_request_duration_seconds_count{method="GET",route="/api/catalog/entities/by-name/{kind}/{namespace}/{name}"} 2`,
		`backlot_http_requests_in_flight`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// A second handler on the same registry shares the metrics.
	if _, err := New(Config{Reader: f.store, Writer: f.writer, Registry: reg}); err != nil {
		t.Errorf("second New on the same registry: %v", err)
	}
	// The default registry has the Go collector.
	g := newFixture(t)
	body = string(send(t, mustRequest(t, http.MethodGet, g.srv.URL+"/metrics")).mustStatus(t, http.StatusOK).body)
	if !strings.Contains(body, "go_goroutines") {
		t.Errorf("default registry lacks the Go collector")
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no reader", Config{Writer: &fakeWriter{}}, "Reader is required"},
		{"no writer", Config{Reader: failingReader{}}, "Writer is required"},
		{"negative body limit", Config{Reader: failingReader{}, Writer: &fakeWriter{}, MaxBodyBytes: -1}, "MaxBodyBytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := New(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v, want %q", err, tt.want)
			}
		})
	}
}

func TestNotImplementedRoutes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, c := range []struct{ method, path, body string }{
		{http.MethodPost, "/entities/by-query", `{"query":{"kind":"component"}}`},
		{http.MethodPost, "/entity-facets", `{"facets":["kind"]}`},
		{http.MethodPut, "/locations/x", `{"type":"url","target":"y"}`},
		{http.MethodGet, "/entities/by-name/component/default/checkout/ancestry", ""},
	} {
		name, msg := f.call(t, c.method, c.path, c.body).mustStatus(t, http.StatusNotImplemented).errorOf(t)
		if name != "NotImplementedError" || !strings.Contains(msg, c.method+" /api/catalog"+c.path) {
			t.Errorf("%s %s: got %s %q", c.method, c.path, name, msg)
		}
	}
}
