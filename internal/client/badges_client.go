package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// PolicyResults is the answer of GET /api/policies/{id}/results.
type PolicyResults struct {
	Policy struct {
		ID     string   `json:"id"`
		Title  string   `json:"title"`
		Levels []string `json:"levels"`
	} `json:"policy"`
	Total  int            `json:"total"`
	Counts map[string]int `json:"counts"`
	Owners []struct {
		Owner  string         `json:"owner"`
		Total  int            `json:"total"`
		Counts map[string]int `json:"counts"`
	} `json:"owners"`
	Items []struct {
		Entity  string `json:"entity"`
		Owner   string `json:"owner"`
		Level   string `json:"level"`
		Failing []struct {
			ID      string `json:"id"`
			Level   string `json:"level"`
			Message string `json:"message"`
			Error   string `json:"error"`
		} `json:"failing"`
	} `json:"items"`
	NextAfter string `json:"nextAfter"`
}

// PolicyList is the answer of GET /api/policies.
type PolicyList struct {
	Items []struct {
		ID     string   `json:"id"`
		Ref    string   `json:"ref"`
		Title  string   `json:"title"`
		Levels []string `json:"levels"`
		Checks int      `json:"checks"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	} `json:"items"`
}

// Policies lists the catalog's policies.
func (c *Client) Policies(ctx context.Context) (PolicyList, error) {
	var out PolicyList
	err := c.apiJSON(ctx, http.MethodGet, "/api/policies", nil, &out)
	return out, err
}

// PolicyResults returns a policy's results; query may carry level, owner,
// check, after and limit.
func (c *Client) PolicyResults(ctx context.Context, id string, query url.Values) (PolicyResults, error) {
	var out PolicyResults
	p := "/api/policies/" + url.PathEscape(id) + "/results"
	if len(query) > 0 {
		p += "?" + query.Encode()
	}
	err := c.apiJSON(ctx, http.MethodGet, p, nil, &out)
	return out, err
}

// EntityBadges returns every policy's verdict on an entity (kind:namespace/name),
// at the client's asOf instant when set.
func (c *Client) EntityBadges(ctx context.Context, ref string) ([]Badge, error) {
	kind, ns, name, err := splitRef(ref)
	if err != nil {
		return nil, err
	}
	p := "/api/policies/entities/" + url.PathEscape(kind) + "/" + url.PathEscape(ns) + "/" + url.PathEscape(name)
	if c.asOf != "" {
		p += "?asOf=" + url.QueryEscape(c.asOf)
	}
	var out struct {
		Badges []Badge `json:"badges"`
	}
	err = c.apiJSON(ctx, http.MethodGet, p, nil, &out)
	return out.Badges, err
}

// EntityFacts returns what every source reported about an entity.
func (c *Client) EntityFacts(ctx context.Context, ref string) ([]FactSet, error) {
	kind, ns, name, err := splitRef(ref)
	if err != nil {
		return nil, err
	}
	var out struct {
		Items []FactSet `json:"items"`
	}
	err = c.apiJSON(ctx, http.MethodGet, "/api/facts/entities/"+url.PathEscape(kind)+"/"+url.PathEscape(ns)+"/"+url.PathEscape(name), nil, &out)
	return out.Items, err
}

// ReportFacts posts facts.
func (c *Client) ReportFacts(ctx context.Context, items []FactItem) error {
	return c.apiJSON(ctx, http.MethodPost, "/api/facts", map[string]any{"items": items}, nil)
}

// DeclareFactSource sets the JSON Schema of a source's facts.
func (c *Client) DeclareFactSource(ctx context.Context, source string, schema json.RawMessage) error {
	return c.apiJSON(ctx, http.MethodPut, "/api/facts/sources/"+url.PathEscape(source), map[string]any{"schema": schema}, nil)
}

// splitRef splits kind:namespace/name (namespace default) for a path.
func splitRef(ref string) (kind, ns, name string, err error) {
	kind, rest, ok := strings.Cut(ref, ":")
	if !ok || kind == "" || rest == "" {
		return "", "", "", fmt.Errorf("want an entity ref kind:namespace/name, got %q", ref)
	}
	ns, name, ok = strings.Cut(rest, "/")
	if !ok {
		ns, name = "default", rest
	}
	return strings.ToLower(kind), strings.ToLower(ns), name, nil
}
