package e2e

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/webui"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// TestLaggingCountsFollowTheRecount opens the catalog of a portal whose
// count and facet cache counts exactly up to 3 matches (the dev server's
// counts exactly up to 10,000, more than its example catalog holds): after a
// write the total and the facets are the answers from before it, shown
// "≈ 60" with a tooltip and a note that pass axe; without a reload, the
// script fetches the page again and the recounted, exact total replaces
// them.
func TestLaggingCountsFollowTheRecount(t *testing.T) {
	const n = 60
	store, err := sqlitecatalog.Open(filepath.Join(t.TempDir(), "catalog.db"), sqlitecatalog.Options{
		Lag: catalogstore.LagOptions{ExactUpTo: 3, MaxLag: time.Hour, RefreshEvery: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	if err := store.Apply(ctx, storetest.Components(t, 0, n)); err != nil {
		t.Fatal(err)
	}
	ui, err := webui.New(webui.Config{Catalog: store})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(ui)
	t.Cleanup(ts.Close)
	b := newBrowser(t, &server{base: ts.URL, token: "unused"})

	const total = "#results [data-result-count]"
	b.open(t, "/catalog")
	b.waitText(t, total, "25 shown of 60", 10*time.Second)
	if n := b.count(t, "[data-lagging], .lag-note"); n != 0 {
		t.Fatalf("exact counts are marked lagging (%d marks)", n)
	}

	// A write: the next answers over more than 3 matches lag.
	late, err := catalog.NewEntity(map[string]any{"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
		"metadata": map[string]any{"name": "late-1"},
		"spec":     map[string]any{"type": "service", "lifecycle": "production", "owner": "team-0"}})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := event.New(event.TypeEntityUpserted, late.Ref().Key(), event.EntityUpserted{
		Ref: late.Ref().String(), UID: "uid-late-1", Hash: catalog.HashJSON(late.JSON()), Entity: json.RawMessage(late.JSON()),
		LocationID: "L1", ManagedBy: "file:/catalog/all.yaml", OriginLocation: "file:/catalog/all.yaml",
	}, event.Meta{Actor: "location:L1"})
	if err != nil {
		t.Fatal(err)
	}
	ev.Position = n + 1
	if err := store.Apply(ctx, []event.Envelope{ev}); err != nil {
		t.Fatal(err)
	}

	b.open(t, "/catalog")
	if got := b.text(t, total); !strings.Contains(got, "shown of ≈ 60") {
		t.Fatalf("after a write the total shows %q, want the lagging ≈ 60", got)
	}
	title := eval[string](t, b, `document.querySelector("#results [data-lagging]").title`)
	if !strings.HasPrefix(title, "counted ") || !strings.HasSuffix(title, " s ago; the catalog changes faster than it is counted") {
		t.Errorf("the lagging total's tooltip is %q", title)
	}
	if got := b.text(t, "#results .lag-note"); !strings.Contains(got, "The total was counted") {
		t.Errorf("the results say nothing of the lagging total: %q", got)
	}
	if got := b.text(t, "#facets .lag-note"); !strings.Contains(got, "Counts marked ≈") {
		t.Errorf("the filters say nothing of their lagging counts: %q", got)
	}
	label := eval[string](t, b, `document.querySelector("#facets .count").getAttribute("aria-label")`)
	if !strings.HasPrefix(label, "about ") || !strings.Contains(label, " entities, counted ") {
		t.Errorf("a lagging facet count's accessible name is %q", label)
	}
	b.shot(t, "catalog-lagging")
	b.axe(t, "catalog with lagging counts")

	// No reload: the script fetches the live regions again, and the
	// recounts (61 components) replace the lagging answers. The store
	// recounts two answers at a time, so the six facets take a few fetches.
	b.waitText(t, total, "25 shown of 61", 20*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for b.count(t, "[data-lagging], .lag-note") != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("30 s after the write %d counts are still marked lagging", b.count(t, "[data-lagging]"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := b.text(t, "#facets .count"); got != "61" {
		t.Errorf("the recounted kind facet shows %q, want 61", got)
	}
}
