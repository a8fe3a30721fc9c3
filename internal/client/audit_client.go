package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
)

// AuditEvent is one event of the raw log with its place in it.
type AuditEvent struct {
	Position  int64          `json:"position"`
	Partition int32          `json:"partition"`
	Event     event.Envelope `json:"event"`
}

// auditURL is the audit API's URL of path.
func (c *Client) auditURL(path string) string {
	return strings.TrimSuffix(c.base, catalogPrefix) + auditPrefix + path
}

// AuditEvents reads one page of the raw event log; the cursor continues it
// ("" when there is no more).
func (c *Client) AuditEvents(ctx context.Context, q EventQuery) ([]AuditEvent, string, error) {
	v := url.Values{}
	if q.Subject != "" {
		v.Set("subject", q.Subject)
	}
	if q.Actor != "" {
		v.Set("actor", q.Actor)
	}
	if q.Correlation != "" {
		v.Set("correlation", q.Correlation)
	}
	for _, t := range q.Types {
		v.Add("type", t)
	}
	if !q.From.IsZero() {
		v.Set("from", q.From.Format(time.RFC3339Nano))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.Format(time.RFC3339Nano))
	}
	if len(q.After) > 0 {
		v.Set("after", q.After.String())
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	req, err := http.NewRequestWithContext(ctx, "GET", c.auditURL("/events")+"?"+v.Encode(), nil)
	if err != nil {
		return nil, "", err
	}
	resp, err := c.send(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	var out struct {
		Items      []AuditEvent `json:"items"`
		NextCursor string       `json:"nextCursor"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, "", fmt.Errorf("audit events: decode: %w", err)
	}
	return out.Items, out.NextCursor, nil
}

// AuditVerify asks the server to verify its log's hash chain, calling progress
// as the server reports it.
func (c *Client) AuditVerify(ctx context.Context, checkpoints map[int64]string, progress func(done, total int64)) (event.VerifyReport, error) {
	body := map[string]map[string]string{"checkpoints": {}}
	for k, v := range checkpoints {
		body["checkpoints"][strconv.FormatInt(k, 10)] = v
	}
	raw, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, "POST", c.auditURL("/verify"), bytes.NewReader(raw))
	if err != nil {
		return event.VerifyReport{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.send(req)
	if err != nil {
		return event.VerifyReport{}, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var line verifyLine
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return event.VerifyReport{}, fmt.Errorf("audit verify: %w", err)
		}
		switch {
		case line.Error != "":
			return event.VerifyReport{}, errors.New("audit verify: " + line.Error)
		case line.Report != nil:
			return *line.Report, nil
		case line.Progress != nil && progress != nil:
			progress(line.Progress.Done, line.Progress.Total)
		}
	}
	if err := sc.Err(); err != nil {
		return event.VerifyReport{}, fmt.Errorf("audit verify: %w", err)
	}
	return event.VerifyReport{}, errors.New("audit verify: the server ended without a report")
}

// send performs a request with the client's token and turns an error status
// into an *APIError.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		return nil, decodeAPIError(resp)
	}
	return resp, nil
}

// HistoryVersion is one version of an entity as the history endpoint returns
// it, with its field-level changes from the version before.
type HistoryVersion struct {
	Version
	Changes []catalog.FieldChange `json:"changes"`
}

// EntityHistory returns every version of the entity, oldest first.
func (c *Client) EntityHistory(ctx context.Context, ref string) ([]HistoryVersion, error) {
	r, err := catalog.ParseRef(ref, catalog.RefDefaults{})
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	var all []HistoryVersion
	after := ""
	for {
		u := c.auditURL("/entities/"+url.PathEscape(strings.ToLower(r.Kind))+"/"+url.PathEscape(r.Namespace)+"/"+url.PathEscape(r.Name)+"/history") + "?limit=500"
		if after != "" {
			u += "&after=" + after
		}
		req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
		if err != nil {
			return nil, err
		}
		resp, err := c.send(req)
		if err != nil {
			return nil, err
		}
		var page struct {
			Items      []HistoryVersion `json:"items"`
			NextCursor string           `json:"nextCursor"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("history: decode: %w", err)
		}
		all = append(all, page.Items...)
		if page.NextCursor == "" {
			return all, nil
		}
		after = page.NextCursor
	}
}

// DiffEntry is one entity in an AuditDiff answer: its field-level changes
// and its versions at the two instants (From is nil for an added entity, To
// for a removed one).
type DiffEntry struct {
	Ref     string                `json:"ref"`
	Changes []catalog.FieldChange `json:"changes,omitempty"`
	From    *DiffVersion          `json:"from,omitempty"`
	To      *DiffVersion          `json:"to,omitempty"`
}

// DiffVersion names one version of an entity in a DiffEntry: its number, the
// event that made it and who sent that event.
type DiffVersion struct {
	Version int    `json:"version"`
	EventID string `json:"eventId"`
	Actor   string `json:"actor,omitempty"`
}

// Diff is what changed in the catalog between two instants.
type Diff struct {
	Added   []DiffEntry `json:"added"`
	Removed []DiffEntry `json:"removed"`
	Changed []DiffEntry `json:"changed"`
}

// AuditDiff returns the entities added, removed and changed between two
// instants (RFC 3339 times or log positions).
func (c *Client) AuditDiff(ctx context.Context, from, to string) (Diff, error) {
	u := c.auditURL("/diff") + "?from=" + url.QueryEscape(from) + "&to=" + url.QueryEscape(to)
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return Diff{}, err
	}
	resp, err := c.send(req)
	if err != nil {
		return Diff{}, err
	}
	defer resp.Body.Close()
	var d Diff
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		return Diff{}, fmt.Errorf("diff: decode: %w", err)
	}
	return d, nil
}

// StreamEvents follows GET /api/events/stream from after ("" for the
// beginning, "now" for the present end, or a cursor), calling each for every
// event with the cursor after it, until ctx ends or each returns an error.
func (c *Client) StreamEvents(ctx context.Context, after string, f FeedFilter, each func(cursor string, ev event.Envelope) error) error {
	v := url.Values{}
	if after != "" {
		v.Set("after", after)
	}
	for _, t := range f.Types {
		v.Add("types", t)
	}
	if f.Subject != "" {
		v.Set("subject", f.Subject)
	}
	u := strings.TrimSuffix(c.base, catalogPrefix) + "/api/events/stream?" + v.Encode()
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	hc := *c.hc
	hc.Timeout = 0 // a stream runs until ctx ends
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("event stream: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return decodeAPIError(resp)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var id string
	var data []byte
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "" && data != nil:
			var ev event.Envelope
			if err := json.Unmarshal(data, &ev); err != nil {
				return fmt.Errorf("event stream: %w", err)
			}
			if err := each(id, ev); err != nil {
				return err
			}
			data = nil
		case strings.HasPrefix(line, "id: "):
			id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: error"):
			return errors.New("event stream: the server reported an error")
		case strings.HasPrefix(line, "data: "):
			data = []byte(strings.TrimPrefix(line, "data: "))
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("event stream: %w", err)
	}
	return errors.New("event stream: the server closed the stream")
}

// apiJSON sends a JSON request to a path outside /api/catalog and decodes the
// answer into out (when not nil).
func (c *Client) apiJSON(ctx context.Context, method, path string, body, out any) error {
	if body == nil {
		return c.apiRaw(ctx, method, path, "", nil, out)
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return c.apiRaw(ctx, method, path, "application/json", raw, out)
}

// apiRaw sends a raw body of contentType to a path outside /api/catalog and
// decodes the JSON answer into out (when not nil).
func (c *Client) apiRaw(ctx context.Context, method, path, contentType string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.base, catalogPrefix)+path, rd)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// CreateSubscription creates a webhook subscription.
func (c *Client) CreateSubscription(ctx context.Context, in SubscriptionInput) (Subscription, error) {
	var sub Subscription
	err := c.apiJSON(ctx, http.MethodPost, "/api/events/subscriptions", in, &sub)
	return sub, err
}

// Subscriptions lists the webhook subscriptions.
func (c *Client) Subscriptions(ctx context.Context) ([]Subscription, error) {
	var out struct {
		Items []Subscription `json:"items"`
	}
	err := c.apiJSON(ctx, http.MethodGet, "/api/events/subscriptions", nil, &out)
	return out.Items, err
}

// DeleteSubscription deletes a webhook subscription.
func (c *Client) DeleteSubscription(ctx context.Context, id string) error {
	return c.apiJSON(ctx, http.MethodDelete, "/api/events/subscriptions/"+url.PathEscape(id), nil, nil)
}

// DeadLetters lists a subscription's dead letters.
func (c *Client) DeadLetters(ctx context.Context, id string) ([]DeadLetter, error) {
	var out struct {
		Items []DeadLetter `json:"items"`
	}
	err := c.apiJSON(ctx, http.MethodGet, "/api/events/subscriptions/"+url.PathEscape(id)+"/dead-letters", nil, &out)
	return out.Items, err
}

// ReplayDeadLetter delivers a dead letter again.
func (c *Client) ReplayDeadLetter(ctx context.Context, id, eventID string) error {
	return c.apiJSON(ctx, http.MethodPost, "/api/events/subscriptions/"+url.PathEscape(id)+"/dead-letters/"+url.PathEscape(eventID)+"/replay", nil, nil)
}
