package githost

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"backlot.dev/backlot/workflows/netguard"
)

// APIError is an answer of a host's API outside 2xx.
type APIError struct {
	Host, Method, Path string
	Status             int
	Message            string
}

// Error names the host, the request and the host's message.
func (e *APIError) Error() string {
	return fmt.Sprintf("%s: %s %s: %d %s", e.Host, e.Method, e.Path, e.Status, e.Message)
}

// Is makes an API's 404 ErrNotFound, so callers of every host test one
// error for a missing repository or change request.
func (e *APIError) Is(target error) bool {
	return target == ErrNotFound && e.Status == http.StatusNotFound
}

// defaultClient is the client of a host without one: a netguard client that
// reaches public addresses only, follows no redirect (a 3xx is an *APIError)
// and gives up after 30 seconds. A host on a private network needs a client
// on a Guard that allows it (internal/app passes one).
var defaultClient = netguard.NewClient(netguard.Default(), 30*time.Second)

// restCall sends a JSON request to a host's REST API (url is the whole
// address, path the part named in errors), with the headers auth sets, and
// decodes a 2xx answer into out. hc nil is defaultClient.
func restCall(ctx context.Context, hc *http.Client, host, method, url, path string, auth func(*http.Request), body, out any) error {
	if hc == nil {
		hc = defaultClient
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	auth(req)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %s %s: %w", host, method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var m struct {
			Message any `json:"message"`
		}
		json.Unmarshal(raw, &m)
		msg := ""
		if m.Message != nil {
			msg = fmt.Sprint(m.Message)
		}
		return &APIError{Host: host, Method: method, Path: path, Status: resp.StatusCode, Message: msg}
	}
	if out != nil && len(raw) > 0 {
		return json.Unmarshal(raw, out)
	}
	return nil
}
