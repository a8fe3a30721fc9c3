package httpapi

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DefaultMaxStreamsPerPrincipal is how many streams (Server-Sent Events and
// long polls) one principal may hold open at once when
// Config.MaxStreamsPerPrincipal is zero: a few browser tabs and a CLI follow,
// and not a client that opens them without end.
const DefaultMaxStreamsPerPrincipal = 8

// streamRetryAfter is the Retry-After of a stream refused for the cap.
const streamRetryAfter = 5 * time.Second

// isStream reports whether the request opens a stream: the event feed's
// Server-Sent Events, a task's event stream, or a long poll of the feed or
// of a task's events.
func isStream(r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false
	}
	p := r.URL.Path
	return p == "/api/events/stream" || p == "/api/events" ||
		(strings.HasPrefix(p, "/api/scaffolder/v2/tasks/") && (strings.HasSuffix(p, "/eventstream") || strings.HasSuffix(p, "/events")))
}

// isLongAnswer reports whether the request's answer streams progress for as
// long as its work takes (POST /api/audit/verify over a long log): it is
// exempt from the write timeout but not counted as a stream.
func isLongAnswer(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Path == "/api/audit/verify"
}

// streamCounter counts each principal's open streams.
type streamCounter struct {
	mu   sync.Mutex
	open map[string]int
}

// acquire counts one more stream of who, or reports false at max.
func (c *streamCounter) acquire(who string, max int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[who] >= max {
		return false
	}
	c.open[who]++
	return true
}

// release counts one stream of who less.
func (c *streamCounter) release(who string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[who]--; c.open[who] <= 0 {
		delete(c.open, who)
	}
}

// streamPrincipal is who a stream is counted against: the principal
// Config.Authenticate names, or without one (or when it names none) the
// client's address.
func (s *server) streamPrincipal(r *http.Request) string {
	if s.cfg.Authenticate != nil {
		if p, err := s.cfg.Authenticate(r); err == nil && p != "" {
			return p
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "address:" + host
}

// limitStreams answers 429 TooManyRequestsError (with Retry-After) to a
// stream over Config.MaxStreamsPerPrincipal open streams of its principal,
// and lifts the server's write timeout for the streams it lets through:
// they last as long as the client stays.
func (s *server) limitStreams(next http.Handler) http.Handler {
	max := s.cfg.MaxStreamsPerPrincipal
	c := &streamCounter{open: map[string]int{}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isStream(r) {
			if isLongAnswer(r) {
				// Only the write deadline: its body is still read in time.
				_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
			}
			next.ServeHTTP(w, r)
			return
		}
		who := s.streamPrincipal(r)
		if !c.acquire(who, max) {
			w.Header().Set("Retry-After", fmt.Sprint(int(streamRetryAfter.Seconds())))
			s.writeError(w, r, &apiError{status: http.StatusTooManyRequests, name: "TooManyRequestsError",
				message: fmt.Sprintf("%s has %d streams open, the limit (MaxStreamsPerPrincipal); close one and retry", who, max)})
			return
		}
		defer c.release(who)
		noWriteDeadline(w)
		next.ServeHTTP(w, r)
	})
}
