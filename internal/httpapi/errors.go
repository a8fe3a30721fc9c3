package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/internal/webhooks"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/history"
)

// statusError is an error that knows its HTTP status and Backstage error name.
type statusError interface {
	HTTPStatus() int
	ErrorName() string
}

// apiError is an error raised by the handlers themselves.
type apiError struct {
	status  int
	name    string
	message string
}

// Error returns the message.
func (e *apiError) Error() string { return e.message }

// HTTPStatus returns the status code.
func (e *apiError) HTTPStatus() int { return e.status }

// ErrorName returns Backstage's error name.
func (e *apiError) ErrorName() string { return e.name }

// inputError is Backstage's 400 InputError.
func inputError(format string, args ...any) error {
	return &apiError{status: http.StatusBadRequest, name: "InputError", message: fmt.Sprintf(format, args...)}
}

// notFoundError is Backstage's 404 NotFoundError.
func notFoundError(format string, args ...any) error {
	return &apiError{status: http.StatusNotFound, name: "NotFoundError", message: fmt.Sprintf(format, args...)}
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

// classify maps an error to its status, Backstage name and message.
func classify(r *http.Request, err error) (int, string, string) {
	var se statusError
	var ve *catalog.ValidationError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, "PayloadTooLargeError",
			fmt.Sprintf("request body is larger than the limit of %d bytes", mbe.Limit)
	case errors.As(err, &se):
		status := se.HTTPStatus()
		if status < 400 || status > 599 {
			status = http.StatusInternalServerError
		}
		name := se.ErrorName()
		if name == "" {
			name = "Error"
		}
		return status, name, err.Error()
	case errors.Is(err, catalogstore.ErrNotFound), errors.Is(err, webhooks.ErrNotFound), errors.Is(err, history.ErrNotFound):
		return http.StatusNotFound, "NotFoundError", err.Error()
	case errors.Is(err, catalog.ErrNotAllowed):
		return http.StatusForbidden, "NotAllowedError", err.Error()
	case errors.As(err, &ve):
		return http.StatusBadRequest, "InputError", err.Error()
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		return statusClientClosed, "ClientClosedRequest", "the client closed the request"
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "ServiceUnavailableError", err.Error()
	}
	return http.StatusInternalServerError, "Error", err.Error()
}

// writeError answers err with Backstage's error body and logs it.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, name, msg := classify(r, err)
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
