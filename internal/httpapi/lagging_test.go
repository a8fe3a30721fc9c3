package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
)

// laggingValue is the form of a LaggingHeader value: the part, then its age.
var laggingValue = regexp.MustCompile(`^(totalItems|facets);age=([0-9]+\.[0-9]{3})$`)

// TestLaggingTotalsAndFacetsAreMarked serves a catalog whose count and facet
// cache counts exactly up to 3 matches: after a write, a total or facet over
// more is the previous answer, marked with LaggingHeader and its age; an exact
// answer (before any write, or over few matches) has no header.
func TestLaggingTotalsAndFacetsAreMarked(t *testing.T) {
	store := openStoreLag(t, catalogstore.LagOptions{ExactUpTo: 3, MaxLag: time.Hour, RefreshEvery: time.Hour})
	f := &fixture{store: store, writer: &fakeWriter{}, uids: map[string]string{}}
	f.load(t)
	h, err := New(Config{Reader: store, Writer: f.writer, Logger: slog.New(slog.DiscardHandler), Guest: &testGuest})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)

	const (
		components = "/entities/by-query?filter=kind=component&limit=2"
		onlyTotal  = "/entities/by-query?filter=kind=component&limit=0"
		noTotal    = "/entities/by-query?filter=kind=component&limit=2&totalItems=exclude"
		few        = "/entities/by-query?filter=kind=system"
		facets     = "/entity-facets?facet=spec.type&filter=kind=component"
	)
	get := func(path string) (total int, lagging string) {
		t.Helper()
		resp := f.call(t, "GET", path, "")
		if resp.status != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.status, resp.body)
		}
		var body struct {
			TotalItems int `json:"totalItems"`
		}
		if err := json.Unmarshal(resp.body, &body); err != nil {
			t.Fatal(err)
		}
		return body.TotalItems, resp.header.Get(LaggingHeader)
	}
	exact := func(path string) int {
		t.Helper()
		total, lag := get(path)
		if lag != "" {
			t.Fatalf("GET %s: exact answer marked %s: %q", path, LaggingHeader, lag)
		}
		return total
	}
	lagging := func(path, part string) int {
		t.Helper()
		total, lag := get(path)
		m := laggingValue.FindStringSubmatch(lag)
		if m == nil || m[1] != part {
			t.Fatalf("GET %s after a write: %s = %q, want %s;age=SECONDS", path, LaggingHeader, lag, part)
		}
		if age, _ := strconv.ParseFloat(m[2], 64); age < 0.01 || age > 3600 {
			t.Fatalf("GET %s after a write: age %v s, want the answer's age (at least the 10ms slept)", path, age)
		}
		return total
	}

	// Before any write every answer is exact, the first and the cached ones.
	for range 2 {
		if n := exact(components); n != componentCount {
			t.Fatalf("totalItems %d, want %d", n, componentCount)
		}
		exact(onlyTotal)
		exact(facets)
		exact(few)
	}
	time.Sleep(10 * time.Millisecond)

	f.applyComponent(t, "late-1", 1001)
	// The total over more than 3 components is the one before the write, marked.
	if n := lagging(components, laggingTotal); n != componentCount {
		t.Fatalf("lagging totalItems %d, want the previous answer %d", n, componentCount)
	}
	lagging(onlyTotal, laggingTotal)
	// Facets the same.
	resp := f.call(t, "GET", facets, "")
	if m := laggingValue.FindStringSubmatch(resp.header.Get(LaggingHeader)); m == nil || m[1] != laggingFacets {
		t.Fatalf("facets after a write: %s = %q, want facets;age=SECONDS", LaggingHeader, resp.header.Get(LaggingHeader))
	}
	// An answer over at most 3 matches is counted again: exact.
	exact(few)
	// Without a total nothing can lag.
	exact(noTotal)
	// The items themselves never lag: the new component is on its page.
	resp = f.call(t, "GET", "/entities/by-query?filter=metadata.name=late-1", "")
	if resp.header.Get(LaggingHeader) != "" {
		t.Fatalf("a query over one match is marked lagging: %q", resp.header.Get(LaggingHeader))
	}
	var page queryResponse
	if err := json.Unmarshal(resp.body, &page); err != nil || len(page.Items) != 1 || page.TotalItems != 1 {
		t.Fatalf("the written component is not read at once: %s (%v)", resp.body, err)
	}
}

// applyComponent applies the upsert of a library component named name at
// log position pos.
func (f *fixture) applyComponent(t *testing.T, name string, pos int64) {
	t.Helper()
	ent, err := catalog.NewEntity(map[string]any{
		"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
		"metadata": map[string]any{"name": name},
		"spec":     map[string]any{"type": "library", "lifecycle": "production", "owner": "team-b"},
	})
	if err != nil {
		t.Fatal(err)
	}
	managedBy := "url:" + testLocationTarget
	ev, err := event.New(event.TypeEntityUpserted, ent.Ref().Key(), event.EntityUpserted{
		Ref: ent.Ref().String(), UID: event.NewID(), Hash: catalog.HashJSON(ent.JSON()), Entity: ent.JSON(),
		LocationID: testLocationID, ManagedBy: managedBy, OriginLocation: managedBy}, event.Meta{Actor: "user:default/test"})
	if err != nil {
		t.Fatal(err)
	}
	ev.Position = pos
	if err := f.store.Apply(context.Background(), []event.Envelope{ev}); err != nil {
		t.Fatal(fmt.Errorf("apply %s: %w", name, err))
	}
}
