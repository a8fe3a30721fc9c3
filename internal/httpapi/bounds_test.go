package httpapi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/asof"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/history"
)

// tickFeed is a feed that has a new event every 50ms.
type tickFeed struct{ n atomic.Int64 }

func (f *tickFeed) Read(ctx context.Context, after event.Positions, _ FeedFilter, _ int, _ time.Duration) ([]event.Envelope, event.Positions, error) {
	select {
	case <-ctx.Done():
		return nil, after, ctx.Err()
	case <-time.After(50 * time.Millisecond):
	}
	n := f.n.Add(1)
	ev := event.Envelope{ID: fmt.Sprint(n), Source: "/test", SpecVersion: event.SpecVersion, Type: "backlot.test.v1", Subject: "component:default/x", Time: time.Now().UTC(), DataContentType: "application/json", Data: []byte(`{}`)}
	return []event.Envelope{ev}, event.Positions{0: n}, nil
}

func (f *tickFeed) Heads(context.Context) (event.Positions, error) { return event.Positions{}, nil }

// serveBounded serves New(cfg) (with a fresh store and fake writer) through
// NewHTTPServer with the timeouts t, and returns its address.
func serveBounded(t *testing.T, tm Timeouts, configure func(*Config)) string {
	t.Helper()
	cfg := Config{Reader: openStore(t), Writer: &fakeWriter{}, Logger: slog.New(slog.DiscardHandler), Feed: &tickFeed{}, Guest: &testGuest}
	if configure != nil {
		configure(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewHTTPServer(h, tm)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func TestNewHTTPServerSetsEveryTimeout(t *testing.T) {
	t.Parallel()
	s := NewHTTPServer(http.NotFoundHandler(), Timeouts{})
	if s.ReadHeaderTimeout != DefaultReadHeaderTimeout || s.ReadTimeout != DefaultReadTimeout ||
		s.WriteTimeout != DefaultWriteTimeout || s.IdleTimeout != DefaultIdleTimeout {
		t.Fatalf("timeouts %v %v %v %v, want the defaults", s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout)
	}
}

func TestSlowLorisIsCutOff(t *testing.T) {
	t.Parallel()
	addr := serveBounded(t, Timeouts{ReadHeader: 200 * time.Millisecond}, nil)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Headers that never end.
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = io.ReadAll(conn)
	took := time.Since(start)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server still held the connection after %s", took)
	}
	if took > 2*time.Second {
		t.Fatalf("cut off after %s, want about the 200ms read-header timeout", took)
	}
}

func TestStreamOutlivesTheWriteTimeout(t *testing.T) {
	t.Parallel()
	addr := serveBounded(t, Timeouts{Read: 300 * time.Millisecond, Write: 300 * time.Millisecond}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/api/events/stream", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	start := time.Now()
	sc := bufio.NewScanner(resp.Body)
	late := 0
	for sc.Scan() && time.Since(start) < 1200*time.Millisecond {
		if strings.HasPrefix(sc.Text(), "id: ") && time.Since(start) > 800*time.Millisecond {
			late++
		}
	}
	if late == 0 {
		t.Fatalf("no event after the 300ms write timeout (stream ended: %v)", sc.Err())
	}
}

func TestStreamsPerPrincipalAreCapped(t *testing.T) {
	t.Parallel()
	addr := serveBounded(t, Timeouts{}, func(c *Config) {
		c.MaxStreamsPerPrincipal = 2
		c.Authenticate = func(r *http.Request) (string, error) {
			if v := r.Header.Get("Authorization"); strings.HasPrefix(v, "Bearer ") {
				return "user:default/" + strings.TrimPrefix(v, "Bearer "), nil
			}
			return "", errors.New("no token")
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	open := func(who, path string) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+who)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	first := open("ada", "/api/events/stream")
	second := open("ada", "/api/scaffolder/v2/tasks/t1/eventstream")
	if first.StatusCode != http.StatusOK {
		t.Fatalf("first stream: %d", first.StatusCode)
	}
	// Without a scaffolder the task stream answers 503 at once; it still
	// counted while it ran.
	second.Body.Close()
	second = open("ada", "/api/events/stream")
	if second.StatusCode != http.StatusOK {
		t.Fatalf("second stream: %d", second.StatusCode)
	}
	third := open("ada", "/api/events/stream")
	if third.StatusCode == http.StatusOK {
		t.Fatal("a third stream of one principal was let through, want 429")
	}
	body, _ := io.ReadAll(third.Body)
	if third.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), `"TooManyRequestsError"`) ||
		!strings.Contains(string(body), "2 streams") || third.Header.Get("Retry-After") == "" {
		t.Fatalf("third stream: %d %s (Retry-After %q), want 429 TooManyRequestsError naming the limit", third.StatusCode, body, third.Header.Get("Retry-After"))
	}
	if other := open("bob", "/api/events/stream"); other.StatusCode != http.StatusOK {
		t.Fatalf("another principal's stream: %d", other.StatusCode)
	}
	first.Body.Close()
	deadline := time.Now().Add(3 * time.Second)
	for {
		again := open("ada", "/api/events/stream")
		if again.StatusCode == http.StatusOK {
			break
		}
		again.Body.Close()
		if time.Now().After(deadline) {
			t.Fatalf("a closed stream still counts: %d", again.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestWritesNeedAJSONContentType(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	post := func(method, path, ct, body string) response {
		req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		return send(t, req)
	}
	for _, c := range []struct {
		name, method, path, ct string
		status                 int
		wantName               string
	}{
		{"no content type", http.MethodPost, catalogPrefix + "/locations", "", http.StatusUnsupportedMediaType, "UnsupportedMediaTypeError"},
		{"no content type on a delete", http.MethodDelete, catalogPrefix + "/locations/" + testLocationID, "", http.StatusUnsupportedMediaType, "UnsupportedMediaTypeError"},
		{"text/plain, as a cross-site form sends", http.MethodPost, "/api/migrations", "text/plain", http.StatusBadRequest, "InputError"},
		{"no content type on a migration", http.MethodPost, "/api/migrations?dryRun=true", "", http.StatusUnsupportedMediaType, "UnsupportedMediaTypeError"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := post(c.method, c.path, c.ct, `{"type":"url","target":"x"}`)
			name, msg := r.mustStatus(t, c.status).errorOf(t)
			if name != c.wantName || !strings.Contains(msg, "Content-Type") {
				t.Fatalf("got %s %q, want %s naming Content-Type", name, msg, c.wantName)
			}
		})
	}
	t.Run("json passes", func(t *testing.T) {
		post(http.MethodPost, catalogPrefix+"/locations", "application/json; charset=utf-8", `{"type":"url","target":"x"}`).mustStatus(t, http.StatusCreated)
	})
	t.Run("a git webhook may send a form", func(t *testing.T) {
		r := post(http.MethodPost, "/api/git/hooks/github", "application/x-www-form-urlencoded", `payload=%7B%7D`)
		if r.status == http.StatusUnsupportedMediaType || strings.Contains(string(r.body), "Content-Type") {
			t.Fatalf("a form webhook was refused for its media type: %d %s", r.status, r.body)
		}
	})
	t.Run("a write without a body needs none", func(t *testing.T) {
		if r := post(http.MethodDelete, catalogPrefix+"/locations/"+testLocationID, "", ""); r.status == http.StatusUnsupportedMediaType {
			t.Fatalf("a bodiless delete was refused: %s", r.body)
		}
	})
}

func TestLocalGuardRefusesOtherHostsAndOrigins(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.LocalGuard = &LocalGuard{Hosts: []string{"backlot.test"}} })
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(f.srv.URL, "http://"))
	do := func(method, host, origin string) response {
		var body io.Reader
		if method != http.MethodGet {
			body = strings.NewReader(`{"type":"url","target":"x"}`)
		}
		req, _ := http.NewRequest(method, f.url("/locations"), body)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if host != "" {
			req.Host = host
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		return send(t, req)
	}
	for _, c := range []struct {
		name, method, host, origin string
		status                     int
		wantMsg                    string
	}{
		{"a rebound name", http.MethodGet, "attacker.example:" + port, "", http.StatusForbidden, `Host header "attacker.example:` + port},
		{"a rebound name writing", http.MethodPost, "attacker.example", "", http.StatusForbidden, "Host header"},
		{"a write from another origin", http.MethodPost, "", "https://evil.example", http.StatusForbidden, `Origin header "https://evil.example"`},
		{"a write from another port of localhost", http.MethodPost, "localhost:" + port, "http://localhost:1", http.StatusForbidden, "Origin header"},
		{"a write from an opaque origin", http.MethodPost, "", "null", http.StatusForbidden, "Origin header"},
		{"a read from another origin", http.MethodGet, "", "https://evil.example", http.StatusOK, ""},
		{"a write from its own origin", http.MethodPost, "localhost:" + port, "http://localhost:" + port, http.StatusCreated, ""},
		{"a write with no origin (the CLI)", http.MethodPost, "", "", http.StatusCreated, ""},
		{"a configured name", http.MethodGet, "backlot.test:" + port, "", http.StatusOK, ""},
		{"ipv6 loopback", http.MethodGet, "[::1]:" + port, "", http.StatusOK, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := do(c.method, c.host, c.origin).mustStatus(t, c.status)
			if c.wantMsg == "" {
				return
			}
			name, msg := r.errorOf(t)
			if name != "NotAllowedError" || !strings.Contains(msg, c.wantMsg) {
				t.Fatalf("got %s %q, want NotAllowedError containing %q", name, msg, c.wantMsg)
			}
		})
	}
	t.Run("without a guard", func(t *testing.T) {
		g := newFixture(t)
		req, _ := http.NewRequest(http.MethodGet, g.url("/locations"), nil)
		req.Host = "attacker.example"
		send(t, req).mustStatus(t, http.StatusOK)
	})
}

func TestAsOfBusyAnswers503WithRetryAfter(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) {
		c.AsOf = func(context.Context, history.Instant) (catalogstore.Reader, error) {
			return nil, &asof.BusyError{Limit: 2, RetryAfter: asof.BusyRetryAfter}
		}
	})
	r := f.get(t, "/entities?asOf=3").mustStatus(t, http.StatusServiceUnavailable)
	name, msg := r.errorOf(t)
	if name != "ServiceUnavailableError" || !strings.Contains(msg, "2 catalogs") || r.header.Get("Retry-After") != "5" {
		t.Fatalf("got %s %q Retry-After %q, want ServiceUnavailableError naming the limit, Retry-After 5", name, msg, r.header.Get("Retry-After"))
	}
}
