package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestSearchAndOpenEntity types into the catalog's search (no Enter: the
// results follow the typing), opens the entity found, and checks the URL
// kept the query.
func TestSearchAndOpenEntity(t *testing.T) {
	srv := devServer(t)
	b := newBrowser(t, srv)
	b.open(t, "/catalog")
	b.waitText(t, "#results", "tracking-service", 10*time.Second) // the first page lists it by name
	b.shot(t, "catalog")
	b.axe(t, "catalog")

	b.typeInto(t, "#q", "parcel-event")
	b.waitText(t, "#results [data-result-count]", "of 1", 10*time.Second)
	if loc := b.location(t); !strings.Contains(loc, "q=parcel-event") {
		t.Errorf("the URL does not hold the search: %s", loc)
	}
	b.waitText(t, "#results", "parcel-event-router", 5*time.Second)
	b.shot(t, "catalog-search")

	b.click(t, `#results a[href="/catalog/default/component/parcel-event-router"]`)
	b.waitText(t, "h1", "parcel-event-router", 10*time.Second)
}

// TestCatalogFilters filters by kind through the facet links and sorts the
// table; the URL holds both.
func TestCatalogFilters(t *testing.T) {
	srv := devServer(t)
	b := newBrowser(t, srv)
	b.open(t, "/catalog?kind=api&sort=name&dir=desc")
	b.waitText(t, "#results [data-result-count]", "of 6", 10*time.Second)
	first := b.text(t, "#results tbody tr td a")
	if !strings.Contains(first, "tracking-graphql") && !strings.Contains(strings.ToLower(first), "tracking") {
		t.Errorf("sorted by name descending, the first API is %q", first)
	}
	b.waitText(t, "#facets", "Kind", 5*time.Second)
}
