package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"backlot.dev/backlot/domain/fault"
)

// apiError is an error the HTTP layer raises itself with a status that no
// fault category names: 501 for routes this server does not offer.
type apiError struct {
	status  int
	name    string
	message string
}

// Error returns the message.
func (e *apiError) Error() string { return e.message }

// inputError is an invalid request: Backstage's 400 InputError.
func inputError(format string, args ...any) error {
	return fault.New(fault.Invalid, "", format, args...)
}

// notFoundError is a thing that does not exist: Backstage's 404 NotFoundError.
func notFoundError(format string, args ...any) error {
	return fault.New(fault.NotFound, "", format, args...)
}

// notImplemented is a route this server does not offer: 501 NotImplementedError.
func notImplemented(msg string) error {
	return &apiError{status: http.StatusNotImplemented, name: "NotImplementedError", message: msg}
}

// categoryError is an error of category c with the message msg.
func categoryError(c *fault.Category, msg string) error {
	return fault.New(c, "", "%s", msg)
}

// categoryStatus is each fault category's status code and Backstage error name.
var categoryStatus = map[*fault.Category]struct {
	status int
	name   string
}{
	fault.Invalid:         {http.StatusBadRequest, "InputError"},
	fault.Unauthenticated: {http.StatusUnauthorized, "AuthenticationError"},
	fault.Forbidden:       {http.StatusForbidden, "NotAllowedError"},
	fault.NotFound:        {http.StatusNotFound, "NotFoundError"},
	fault.Conflict:        {http.StatusConflict, "ConflictError"},
	fault.Upstream:        {http.StatusBadGateway, "DeliveryError"},
	fault.Unavailable:     {http.StatusServiceUnavailable, "ServiceUnavailableError"},
}

// statusClientClosed records, in logs and metrics, a request whose client left.
const statusClientClosed = 499

// errorBody is Backstage's error response body.
type errorBody struct {
	Error    errorJSON    `json:"error"`
	Request  requestJSON  `json:"request"`
	Response responseJSON `json:"response"`
}

type errorJSON struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

type requestJSON struct {
	Method string `json:"method"`
	URL    string `json:"url"`
}

type responseJSON struct {
	StatusCode int `json:"statusCode"`
}

// classify maps an error to its status, Backstage name and message. It is the
// one place where errors become status codes: a body over the limit is 413, an
// error of a fault category takes the category's status and name (see
// categoryStatus), a request whose client left is 499, a deadline that passed
// 503, and anything else 500.
func classify(r *http.Request, err error) (int, string, string) {
	var ae *apiError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, "PayloadTooLargeError",
			fmt.Sprintf("request body is larger than the limit of %d bytes", mbe.Limit)
	case errors.As(err, &ae):
		status := ae.status
		if status < 400 || status > 599 {
			status = http.StatusInternalServerError
		}
		name := ae.name
		if name == "" {
			name = "Error"
		}
		return status, name, err.Error()
	}
	if c := fault.Of(err); c != nil {
		if st, ok := categoryStatus[c]; ok {
			return st.status, st.name, err.Error()
		}
	}
	switch {
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		return statusClientClosed, "ClientClosedRequest", "the client closed the request"
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "ServiceUnavailableError", err.Error()
	}
	return http.StatusInternalServerError, "Error", err.Error()
}

// writeError answers err with Backstage's error body and logs it; an error
// that says when to retry (RetryAfterDelay) also sets Retry-After.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, name, msg := classify(r, err)
	var ra interface{ RetryAfterDelay() time.Duration }
	if errors.As(err, &ra) && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", strconv.Itoa(int(max(ra.RetryAfterDelay().Round(time.Second), time.Second)/time.Second)))
	}
	level := slog.LevelDebug
	if status >= 500 && status != statusClientClosed {
		level = slog.LevelError
	}
	s.log.Log(r.Context(), level, "request failed", "method", r.Method, "url", r.URL.RequestURI(),
		"status", status, "error", err)
	writeErrorBody(w, r, status, name, msg)
}

func writeErrorBody(w http.ResponseWriter, r *http.Request, status int, name, msg string) {
	writeJSON(w, status, errorBody{
		Error:    errorJSON{Name: name, Message: msg},
		Request:  requestJSON{Method: r.Method, URL: r.URL.RequestURI()},
		Response: responseJSON{StatusCode: status},
	})
}
