package httpapi

import (
	"net/http"
	"time"
)

// Timeouts are the deadlines of an HTTP server's connections. Zero fields
// take the defaults below.
type Timeouts struct {
	// ReadHeader bounds reading a request's headers: a client that sends
	// them slowly (slow loris) is cut off. Default DefaultReadHeaderTimeout.
	ReadHeader time.Duration
	// Read bounds reading a whole request, its body included. Default
	// DefaultReadTimeout.
	Read time.Duration
	// Write bounds a response, from the end of the request's headers.
	// Streams (Server-Sent Events, long polls) lift it. Default
	// DefaultWriteTimeout.
	Write time.Duration
	// Idle bounds how long a kept-alive connection waits for its next
	// request. Default DefaultIdleTimeout.
	Idle time.Duration
}

const (
	// DefaultReadHeaderTimeout is Timeouts.ReadHeader's default: headers
	// arrive in one packet or a few.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout is Timeouts.Read's default: enough for the largest
	// body (DefaultMaxBodyBytes) over a slow link.
	DefaultReadTimeout = time.Minute
	// DefaultWriteTimeout is Timeouts.Write's default: twice the longest
	// wait a read may ask for (a feed long poll's 60 s) and room for a
	// large entity list.
	DefaultWriteTimeout = 2 * time.Minute
	// DefaultIdleTimeout is Timeouts.Idle's default.
	DefaultIdleTimeout = 2 * time.Minute
)

func (t *Timeouts) setDefaults() {
	if t.ReadHeader <= 0 {
		t.ReadHeader = DefaultReadHeaderTimeout
	}
	if t.Read <= 0 {
		t.Read = DefaultReadTimeout
	}
	if t.Write <= 0 {
		t.Write = DefaultWriteTimeout
	}
	if t.Idle <= 0 {
		t.Idle = DefaultIdleTimeout
	}
}

// NewHTTPServer returns the http.Server of handler with the timeouts t (zero
// fields take their defaults). The handlers of New lift the read and write
// timeouts for the streams they serve.
func NewHTTPServer(handler http.Handler, t Timeouts) *http.Server {
	t.setDefaults()
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
	}
}

// noWriteDeadline lifts the connection's write deadline (and its read
// deadline, whose end would cancel the request's context) for a stream that
// lasts as long as its client stays. A writer that cannot is left as it is.
func noWriteDeadline(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	_ = rc.SetReadDeadline(time.Time{})
}
