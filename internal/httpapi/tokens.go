package httpapi

import (
	"context"
	"net/http"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/fault"
)

// tokens carries read-your-writes tokens: a write answers with the positions
// of its events in the event.TokenHeader header, and a request that sends the
// header is served only once the read model covers those positions.
func (s *server) tokens(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := r.Header.Get(event.TokenHeader); tok != "" && s.cfg.Waiter != nil {
			want, err := event.ParsePositions(tok)
			if err != nil {
				s.writeError(w, r, categoryError(fault.Invalid, event.TokenHeader+": "+err.Error()))
				return
			}
			wait := s.cfg.TokenWait
			if wait <= 0 {
				wait = 10 * time.Second
			}
			ctx, cancel := context.WithTimeout(r.Context(), wait)
			err = s.cfg.Waiter.WaitFor(ctx, want)
			cancel()
			if err != nil {
				s.writeError(w, r, categoryError(fault.Unavailable, "the read model has not reached "+event.TokenHeader+" "+want.String()+" yet: "+err.Error()))
				return
			}
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		ctx, collected := event.WithTokenSink(r.Context())
		next.ServeHTTP(&tokenWriter{ResponseWriter: w, collected: collected}, r.WithContext(ctx))
	})
}

// tokenWriter sets the token header from what the write recorded just before
// the status line goes out.
type tokenWriter struct {
	http.ResponseWriter
	collected func() event.Positions
	wrote     bool
}

func (t *tokenWriter) WriteHeader(code int) {
	if !t.wrote {
		t.wrote = true
		if p := t.collected(); len(p) > 0 {
			t.Header().Set(event.TokenHeader, p.String())
		}
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *tokenWriter) Write(b []byte) (int, error) {
	if !t.wrote {
		t.WriteHeader(http.StatusOK)
	}
	return t.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (t *tokenWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }
