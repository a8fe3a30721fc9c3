package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestSearchAndOpenEntity types into the catalog's search (no Enter: the
// results follow the typing), checks the URL holds the query, and opens the
// entity found.
func TestSearchAndOpenEntity(t *testing.T) {
	srv := devServer(t)
	b := newBrowser(t, srv)
	b.open(t, "/catalog?kind=all")
	b.waitText(t, "#results [data-result-count]", "shown of", 10*time.Second)
	all := b.text(t, "#results [data-result-count]")
	if strings.Contains(b.text(t, "#results"), "parcel-event-router") {
		t.Fatal("the first page, sorted by name, already lists parcel-event-router: the search would prove nothing")
	}
	b.shot(t, "catalog")
	b.axe(t, "catalog")

	b.typeInto(t, "#q", "parcel-event-r")
	b.waitText(t, "#results", "parcel-event-router", 10*time.Second)
	if got := b.text(t, "#results [data-result-count]"); got == all {
		t.Errorf("the search did not narrow the results: %q", got)
	}
	if loc := b.location(t); !strings.Contains(loc, "q=parcel-event-r") {
		t.Errorf("the URL does not hold the search: %s", loc)
	}
	b.shot(t, "catalog-search")

	b.click(t, `#results a[href="/catalog/default/component/parcel-event-router"]`)
	b.waitText(t, "h1", "parcel-event-router", 10*time.Second)
	b.waitText(t, "#overview", "tracking-team", 5*time.Second)
}

// TestCatalogFiltersAndSort filters by kind through the facet links, with
// their counts, and sorts the table by name descending; the URL holds both.
func TestCatalogFiltersAndSort(t *testing.T) {
	srv := devServer(t)
	b := newBrowser(t, srv)
	b.open(t, "/catalog")
	b.waitText(t, "#facets", "Kind", 10*time.Second)
	if got := b.text(t, "#results tbody"); strings.Contains(got, "API") || !strings.Contains(got, "Component") {
		t.Errorf("the catalog opens on components; it shows %q", got)
	}
	b.click(t, `#facets a[href="/catalog?kind=all"]`)
	b.waitText(t, "#results tbody", "API", 10*time.Second)
	count := b.text(t, `#facets a[href="/catalog?kind=API"] .count`)
	b.click(t, `#facets a[href="/catalog?kind=API"]`)
	b.waitText(t, "#results [data-result-count]", "of "+count, 10*time.Second)
	if got := b.text(t, "#results tbody"); strings.Contains(got, "Component") || !strings.Contains(got, "API") {
		t.Errorf("filtered by kind API, the table shows %q", got)
	}
	b.click(t, `#results th a[href*="sort=name"]`)
	b.click(t, `#results th a[href*="dir=desc"]`)
	b.waitText(t, "#results th[aria-sort=descending]", "Name", 10*time.Second)
	if loc := b.location(t); !strings.Contains(loc, "kind=API") || !strings.Contains(loc, "dir=desc") {
		t.Errorf("the URL does not hold the filter and the sort: %s", loc)
	}
	first := b.text(t, "#results tbody tr td a")
	if !strings.HasPrefix(strings.ToLower(first), "tracking") {
		t.Errorf("APIs sorted by name descending start with %q, want tracking-graphql", first)
	}
	b.shot(t, "catalog-filtered")
}

// TestCatalogBadgeFilter filters the catalog by a policy's level, counted in
// the filter list.
func TestCatalogBadgeFilter(t *testing.T) {
	srv := devServer(t)
	b := newBrowser(t, srv)
	b.open(t, "/catalog?kind=all")
	b.waitText(t, "#facets", "test-certification:bronze", 20*time.Second)
	sel := `#facets a[href*="badge=test-certification%3Abronze"]`
	count := strings.TrimSpace(b.text(t, sel+" .count"))
	b.click(t, sel)
	b.waitText(t, "#results [data-result-count]", "of "+count, 10*time.Second)
	if got := b.text(t, "#results tbody"); strings.Contains(got, "Group") || !strings.Contains(got, "Component") {
		t.Errorf("filtered by the bronze level of test-certification, the table shows %q", got)
	}
	if loc := b.location(t); !strings.Contains(loc, "badge=test-certification") {
		t.Errorf("the URL does not hold the badge filter: %s", loc)
	}
}
