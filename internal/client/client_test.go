package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"backlot.dev/backlot/internal/client"
)

// recorder is a server that records the last request and answers with a
// fixed status and body.
type recorder struct {
	status int
	body   string
	last   *http.Request
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.last = r
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rec.status)
	fmt.Fprint(w, rec.body)
}

func TestBaseURLTokenAndAsOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, base string
	}{
		{"server root", "/"},
		{"no slash", ""},
		{"catalog prefix given", "/api/catalog"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{status: http.StatusOK, body: `[]`}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			c := client.New(srv.URL+tt.base, srv.Client()).WithToken("s3cret").AsOf("2026-01-01T00:00:00Z")
			if _, err := c.Entities(context.Background(), []string{"kind=component"}, nil); err != nil {
				t.Fatal(err)
			}
			if got := rec.last.URL.Path; got != "/api/catalog/entities" {
				t.Errorf("path %q, want /api/catalog/entities", got)
			}
			if got := rec.last.Header.Get("Authorization"); got != "Bearer s3cret" {
				t.Errorf("Authorization %q", got)
			}
			if q := rec.last.URL.Query(); q.Get("asOf") != "2026-01-01T00:00:00Z" || q.Get("filter") != "kind=component" {
				t.Errorf("query %v, want asOf and the filter", q)
			}
		})
	}
}

func TestErrorsAreAPIErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		status       int
		body         string
		wantName     string
		wantMessage  string
		wantNotFound bool
	}{
		{"Backstage's body", http.StatusNotFound,
			`{"error":{"name":"NotFoundError","message":"No entity named component:default/x"},"request":{},"response":{"statusCode":404}}`,
			"NotFoundError", "No entity named component:default/x", true},
		{"another body", http.StatusBadGateway, `bad gateway from the proxy`, "Error", "bad gateway from the proxy", false},
		{"no body", http.StatusServiceUnavailable, ``, "Error", "Service Unavailable", false},
		{"conflict", http.StatusConflict, `{"error":{"name":"ConflictError","message":"Location url:x already exists"}}`,
			"ConflictError", "Location url:x already exists", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(&recorder{status: tt.status, body: tt.body})
			defer srv.Close()
			_, err := client.New(srv.URL, nil).Locations(context.Background())
			var ae *client.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("got %v, want an *APIError", err)
			}
			if ae.Status != tt.status || ae.Name != tt.wantName || ae.Message != tt.wantMessage {
				t.Errorf("got %+v, want %d %s %q", ae, tt.status, tt.wantName, tt.wantMessage)
			}
			if client.IsNotFound(err) != tt.wantNotFound {
				t.Errorf("IsNotFound = %v", !tt.wantNotFound)
			}
			if want := fmt.Sprintf("%s (HTTP %d): %s", tt.wantName, tt.status, tt.wantMessage); err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
		})
	}
}

func TestLocationsUnwrapsBackstagesItems(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(&recorder{status: http.StatusOK,
		body: `[{"data":{"id":"a","type":"url","target":"https://x/catalog-info.yaml"}},{"data":{"id":"b","type":"file","target":"/srv/c.yaml"}}]`})
	defer srv.Close()
	locs, err := client.New(srv.URL, nil).Locations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []client.Location{{ID: "a", Type: "url", Target: "https://x/catalog-info.yaml"}, {ID: "b", Type: "file", Target: "/srv/c.yaml"}}
	if fmt.Sprint(locs) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", locs, want)
	}
}

func ExampleNew() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"error":{"name":"NotFoundError","message":"No entity with uid %s"}}`, r.PathValue("uid"))
	}))
	defer srv.Close()
	c := client.New(srv.URL, srv.Client())
	_, err := c.EntityByUID(context.Background(), "nope")
	fmt.Println(client.IsNotFound(err))
	// Output: true
}
