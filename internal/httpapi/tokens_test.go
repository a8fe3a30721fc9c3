package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/auth"
)

// tokenWriter records positions for every removal, as the catalog service does.
type tokenRecordingWriter struct {
	*fakeWriter
	pos event.Positions
}

func (w tokenRecordingWriter) RemoveLocation(ctx context.Context, actor, id string) error {
	event.RecordToken(ctx, w.pos)
	return w.fakeWriter.RemoveLocation(ctx, actor, id)
}

// gateWaiter covers positions up to at, per partition.
type gateWaiter struct{ at event.Positions }

func (g gateWaiter) WaitFor(ctx context.Context, want event.Positions) error {
	if g.at.Covers(want) {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}

func TestWritesAnswerWithTheirPositionsAndReadsWaitForThem(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.Writer = tokenRecordingWriter{fakeWriter: c.Writer.(*fakeWriter), pos: event.Positions{0: 7, 3: 12}}
		c.Waiter = gateWaiter{at: event.Positions{0: 10, 3: 12}}
		c.TokenWait = 50 * time.Millisecond
	})
	req, _ := http.NewRequest("DELETE", f.srv.URL+"/api/catalog/locations/"+testLocationID, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get(event.TokenHeader); got != "0:7,3:12" {
		t.Fatalf("write answered %s %q, want 0:7,3:12", event.TokenHeader, got)
	}

	read := func(token string) (int, string) {
		req, _ := http.NewRequest("GET", f.srv.URL+"/api/catalog/entities?limit=1", nil)
		req.Header.Set(event.TokenHeader, token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 2048)
		n, _ := resp.Body.Read(buf)
		b.Write(buf[:n])
		return resp.StatusCode, b.String()
	}
	if code, body := read("0:7,3:12"); code != http.StatusOK {
		t.Fatalf("read with a covered token: %d %s", code, body)
	}
	if code, body := read("3:13"); code != http.StatusServiceUnavailable || !strings.Contains(body, "3:13") {
		t.Fatalf("read with a token ahead of the read model: %d %s", code, body)
	}
	if code, body := read("zz"); code != http.StatusBadRequest || !strings.Contains(body, event.TokenHeader) {
		t.Fatalf("read with a malformed token: %d %s", code, body)
	}
	if code, _ := read(""); code != http.StatusOK {
		t.Fatalf("read without a token: %d", code)
	}
}

func TestWritesNeedAPrincipalWhenAuthenticationIsOn(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		// ada is in team-a, which owns checkout: she may refresh it.
		c.Identify = func(r *http.Request) (auth.Principal, error) {
			if r.Header.Get("Authorization") == "Bearer good" {
				return auth.Principal{Ref: "user:default/ada", Groups: []string{"group:default/team-a"}}, nil
			}
			return auth.Principal{}, errors.New("a valid bearer token is required")
		}
	})
	do := func(method, path, auth string) (int, string) {
		req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(`{"entityRef":"component:default/checkout"}`))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		buf := make([]byte, 2048)
		n, _ := resp.Body.Read(buf)
		return resp.StatusCode, string(buf[:n])
	}
	if code, body := do("POST", "/api/catalog/refresh", ""); code != http.StatusUnauthorized || !strings.Contains(body, "AuthenticationError") {
		t.Fatalf("write without a token: %d %s", code, body)
	}
	if code, body := do("POST", "/api/catalog/refresh", "Bearer good"); code != http.StatusOK {
		t.Fatalf("write with a token: %d %s", code, body)
	}
	if c := f.writer.lastCall(t); c.Actor != "user:default/ada" {
		t.Fatalf("the write's actor is %q, want the principal", c.Actor)
	}
	if code, body := do("GET", "/api/catalog/entities?limit=1", ""); code != http.StatusUnauthorized || !strings.Contains(body, "AuthenticationError") {
		t.Fatalf("read without a token: %d %s, want 401 AuthenticationError", code, body)
	}
	if code, body := do("GET", "/api/catalog/entities?limit=1", "Bearer good"); code != http.StatusOK {
		t.Fatalf("read with a token: %d %s", code, body)
	}
}
