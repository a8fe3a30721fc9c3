package client

import (
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

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
)

// maxErrorBody bounds how much of an error response the Client reads.
const maxErrorBody = 64 << 10

// APIError is an error answered by the catalog API, decoded from Backstage's
// error body. Status is the HTTP status; Name is Backstage's error name
// (NotFoundError, InputError, NotAllowedError, ...).
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Name is the error's name in the body, or "Error" for a body of another shape.
	Name string
	// Message says what went wrong.
	Message string
}

// Error returns "Name (HTTP Status): Message".
func (e *APIError) Error() string {
	return fmt.Sprintf("%s (HTTP %d): %s", e.Name, e.Status, e.Message)
}

// IsNotFound reports whether err is an APIError with status 404.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// Client calls the catalog API of a Backlot (or Backstage) server. It is safe for
// concurrent use. Every method returns an *APIError when the server answers with
// an error status, and another error when the call itself fails.
type Client struct {
	base  string
	hc    *http.Client
	token string
	asOf  string
}

// AsOf returns a copy of the client whose catalog reads answer as the catalog
// was at the instant (an RFC 3339 time or a log position).
func (c *Client) AsOf(instant string) *Client {
	cc := *c
	cc.asOf = instant
	return &cc
}

// WithToken returns a copy of the client that sends token as a bearer token.
func (c *Client) WithToken(token string) *Client {
	cc := *c
	cc.token = token
	return &cc
}

// New returns a client for the server at baseURL (http://127.0.0.1:7007;
// a URL already ending in /api/catalog is used as is). A nil httpClient means
// http.DefaultClient.
func New(baseURL string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	base := strings.TrimRight(baseURL, "/")
	if !strings.HasSuffix(base, catalogPrefix) {
		base += catalogPrefix
	}
	return &Client{base: base, hc: httpClient}
}

// do sends a request and decodes a 2xx JSON answer into out (when not nil).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) (*http.Response, error) {
	u := c.base + path
	if c.asOf != "" && method == http.MethodGet {
		if query == nil {
			query = url.Values{}
		}
		query.Set("asOf", c.asOf)
	}
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("catalog client: encode %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("catalog client: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("catalog client: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return resp, decodeAPIError(resp)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp, fmt.Errorf("catalog client: %s %s: decode response: %w", method, path, err)
		}
	}
	return resp, nil
}

// decodeAPIError reads Backstage's error body; a body of another shape becomes
// the message.
func decodeAPIError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body errorBody
	if json.Unmarshal(raw, &body) == nil && body.Error.Name != "" {
		return &APIError{Status: resp.StatusCode, Name: body.Error.Name, Message: body.Error.Message}
	}
	msg := strings.TrimSpace(string(raw))
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	return &APIError{Status: resp.StatusCode, Name: "Error", Message: msg}
}

// Entities returns every entity matching any of filters (each a comma-separated
// list of key=value or key conditions that must all hold), with only the dotted
// fields when fields is not empty, in entity ref order.
func (c *Client) Entities(ctx context.Context, filters []string, fields []string) ([]map[string]any, error) {
	q := url.Values{}
	for _, f := range filters {
		q.Add("filter", f)
	}
	if len(fields) > 0 {
		q.Set("fields", strings.Join(fields, ","))
	}
	var out []map[string]any
	_, err := c.do(ctx, http.MethodGet, "/entities", q, nil, &out)
	return out, err
}

// EntityByRef returns the entity with the ref (kind:[namespace/]name; the kind is
// required). A missing entity is an *APIError with status 404 (see IsNotFound).
func (c *Client) EntityByRef(ctx context.Context, ref string) (map[string]any, error) {
	r, err := catalog.ParseRef(ref, catalog.RefDefaults{})
	if err != nil {
		return nil, fmt.Errorf("catalog client: %w", err)
	}
	var out map[string]any
	_, err = c.do(ctx, http.MethodGet, "/entities/by-name/"+url.PathEscape(r.Kind)+"/"+url.PathEscape(r.Namespace)+"/"+url.PathEscape(r.Name), nil, nil, &out)
	return out, err
}

// EntityByUID returns the entity with the uid.
func (c *Client) EntityByUID(ctx context.Context, uid string) (map[string]any, error) {
	var out map[string]any
	_, err := c.do(ctx, http.MethodGet, "/entities/by-uid/"+url.PathEscape(uid), nil, nil, &out)
	return out, err
}

// EntitiesByRefs returns the entities with the refs, in the same order, nil where
// one does not exist; only the dotted fields when fields is not empty.
func (c *Client) EntitiesByRefs(ctx context.Context, refs []string, fields []string) ([]map[string]any, error) {
	body := map[string]any{"entityRefs": refs}
	if len(fields) > 0 {
		body["fields"] = fields
	}
	var out struct {
		Items []map[string]any `json:"items"`
	}
	_, err := c.do(ctx, http.MethodPost, "/entities/by-refs", nil, body, &out)
	return out.Items, err
}

// DeleteEntity removes the entity with the uid.
func (c *Client) DeleteEntity(ctx context.Context, uid string) error {
	_, err := c.do(ctx, http.MethodDelete, "/entities/by-uid/"+url.PathEscape(uid), nil, nil, nil)
	return err
}

// QueryRequest selects a page of entities for Client.Query. With Cursor set, only
// Cursor, Limit and Fields count: the cursor carries the rest of the query.
type QueryRequest struct {
	// Filters are ORed; each is a comma-separated list of conditions ANDed.
	Filters []string
	// Fields keeps only these dotted paths of each entity.
	Fields []string
	// OrderFields sort the page: "metadata.name,asc" or "metadata.name,desc".
	OrderFields []string
	// FullTextTerm keeps entities where one of FullTextFields contains it.
	FullTextTerm string
	// FullTextFields are the fields FullTextTerm is looked for in.
	FullTextFields []string
	// Limit is the page size; zero means the server's default (20).
	Limit int
	// Cursor is a NextCursor or PrevCursor of an earlier page.
	Cursor string
}

// QueryPage is one page of Client.Query.
type QueryPage struct {
	// Items are the page's entities.
	Items []map[string]any `json:"items"`
	// TotalItems counts the entities of the whole query, as of its first page.
	TotalItems int `json:"totalItems"`
	// PageInfo holds the cursors of the next and previous pages; each is empty
	// when there is no such page.
	PageInfo struct {
		NextCursor string `json:"nextCursor,omitempty"`
		PrevCursor string `json:"prevCursor,omitempty"`
	} `json:"pageInfo"`
}

// Query returns one page of GET /entities/by-query.
func (c *Client) Query(ctx context.Context, req QueryRequest) (*QueryPage, error) {
	q := url.Values{}
	if req.Limit > 0 {
		q.Set("limit", strconv.Itoa(req.Limit))
	}
	if len(req.Fields) > 0 {
		q.Set("fields", strings.Join(req.Fields, ","))
	}
	if req.Cursor != "" {
		q.Set("cursor", req.Cursor)
	} else {
		for _, f := range req.Filters {
			q.Add("filter", f)
		}
		for _, o := range req.OrderFields {
			q.Add("orderField", o)
		}
		if req.FullTextTerm != "" {
			q.Set("fullTextFilterTerm", req.FullTextTerm)
		}
		if len(req.FullTextFields) > 0 {
			q.Set("fullTextFilterFields", strings.Join(req.FullTextFields, ","))
		}
	}
	var out QueryPage
	if _, err := c.do(ctx, http.MethodGet, "/entities/by-query", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Facets counts, for each facet (a dotted field such as kind or spec.type), how
// many entities matching any of filters have each value.
func (c *Client) Facets(ctx context.Context, facets []string, filters []string) (map[string][]FacetCount, error) {
	q := url.Values{"facet": facets}
	for _, f := range filters {
		q.Add("filter", f)
	}
	var out facetsResponse
	_, err := c.do(ctx, http.MethodGet, "/entity-facets", q, nil, &out)
	return out.Facets, err
}

// Locations returns the registered locations in registration order.
func (c *Client) Locations(ctx context.Context) ([]Location, error) {
	var items []locationItem
	if _, err := c.do(ctx, http.MethodGet, "/locations", nil, nil, &items); err != nil {
		return nil, err
	}
	out := make([]Location, len(items))
	for i, it := range items {
		out[i] = it.Data
	}
	return out, nil
}

// LocationInfo is a registered location with the processing errors of its last
// refresh.
type LocationInfo struct {
	Location
	// Errors are the problems the last refresh of the location found.
	Errors []event.ProcessingError `json:"errors,omitempty"`
}

// Location returns the location with the id and its processing errors.
func (c *Client) Location(ctx context.Context, id string) (*LocationInfo, error) {
	var out LocationInfo
	if _, err := c.do(ctx, http.MethodGet, "/locations/"+url.PathEscape(id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// LocationByEntity returns the registered location that owns the entity with the
// ref (kind:[namespace/]name).
func (c *Client) LocationByEntity(ctx context.Context, ref string) (Location, error) {
	var out Location
	r, err := catalog.ParseRef(ref, catalog.RefDefaults{})
	if err != nil {
		return out, fmt.Errorf("catalog client: %w", err)
	}
	_, err = c.do(ctx, http.MethodGet, "/locations/by-entity/"+url.PathEscape(r.Kind)+"/"+url.PathEscape(r.Namespace)+"/"+url.PathEscape(r.Name), nil, nil, &out)
	return out, err
}

// AddLocation registers a location of the type (url when empty) and target, or
// with dryRun only reads it, and returns the answer: {location, entities} and,
// for a dry run, exists.
func (c *Client) AddLocation(ctx context.Context, locType, target string, dryRun bool) (map[string]any, error) {
	if locType == "" {
		locType = "url"
	}
	q := url.Values{}
	if dryRun {
		q.Set("dryRun", "true")
	}
	var out map[string]any
	_, err := c.do(ctx, http.MethodPost, "/locations", q, map[string]string{"type": locType, "target": target}, &out)
	return out, err
}

// RemoveLocation removes the location with the id and the entities it owns.
func (c *Client) RemoveLocation(ctx context.Context, id string) error {
	_, err := c.do(ctx, http.MethodDelete, "/locations/"+url.PathEscape(id), nil, nil, nil)
	return err
}

// Refresh asks the server to re-read the location that manages the entity.
func (c *Client) Refresh(ctx context.Context, ref string) error {
	_, err := c.do(ctx, http.MethodPost, "/refresh", nil, map[string]string{"entityRef": ref}, nil)
	return err
}

// Validate checks an entity as if read from location (type:target). It returns
// valid true, or valid false with one message per problem, each naming the
// field; err is set only when the check itself could not be made.
func (c *Client) Validate(ctx context.Context, entity map[string]any, location string) (bool, []string, error) {
	raw, err := json.Marshal(map[string]any{"entity": entity, "location": location})
	if err != nil {
		return false, nil, fmt.Errorf("catalog client: encode entity: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/validate-entity", bytes.NewReader(raw))
	if err != nil {
		return false, nil, fmt.Errorf("catalog client: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return false, nil, fmt.Errorf("catalog client: POST /validate-entity: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode < 300:
		return true, nil, nil
	case resp.StatusCode != http.StatusBadRequest:
		return false, nil, decodeAPIError(resp)
	}
	var out validateResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxErrorBody)).Decode(&out); err != nil {
		return false, nil, fmt.Errorf("catalog client: POST /validate-entity: decode response: %w", err)
	}
	msgs := make([]string, len(out.Errors))
	for i, e := range out.Errors {
		msgs[i] = e.Message
	}
	return false, msgs, nil
}
