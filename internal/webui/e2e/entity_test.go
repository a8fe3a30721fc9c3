package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFollowRelation opens an entity, follows its owner in the relation
// graph, and from the group one of its members.
func TestFollowRelation(t *testing.T) {
	srv := devServer(t)
	b := newBrowser(t, srv)
	b.open(t, "/catalog/default/component/tracking-service")
	b.waitText(t, "h1", "tracking-service", 10*time.Second)
	b.shot(t, "entity")
	b.axe(t, "entity")
	b.click(t, `#relations svg a[href="/catalog/default/group/tracking-team"]`)
	b.waitText(t, "h1", "tracking-team", 10*time.Second)
	b.waitText(t, "#relations", "hasMember", 5*time.Second)
	b.click(t, `#relations svg a[href="/catalog/default/user/farah-haddad"]`)
	b.waitText(t, "h1", "farah-haddad", 10*time.Second)
}

// TestAPIDefinitions renders each kind of API definition the example
// catalog holds: OpenAPI and AsyncAPI as documentation, GraphQL and gRPC
// highlighted.
func TestAPIDefinitions(t *testing.T) {
	srv := devServer(t)
	b := newBrowser(t, srv)
	for _, c := range []struct{ api, sel, want string }{
		{"route-planner-api", "#api", "/plans/{planId}"},
		{"parcel-events-api", "#api", "parcel.events.v3"},
		{"driver-dispatch-api", "#api .op", "send"},
		{"tracking-graphql", "#api pre", "type"},
		{"fleet-telemetry-api", "#api pre", "service"},
	} {
		b.open(t, "/catalog/default/api/"+c.api)
		b.waitText(t, c.sel, c.want, 10*time.Second)
		if strings.HasSuffix(c.sel, "pre") && (b.count(t, "#api pre .tok-kw") == 0 || b.count(t, "#api pre .tok-type") == 0) {
			t.Errorf("%s: the definition is not highlighted: %s", c.api, b.text(t, "#api pre"))
		}
		if c.api == "route-planner-api" || c.api == "tracking-graphql" {
			b.shot(t, "entity-api-"+c.api)
			b.axe(t, "entity "+c.api)
		}
	}
}

// TestHistoryDiff edits an entity's descriptor, refreshes it, and reads the
// field-level diff of the new version in the timeline.
func TestHistoryDiff(t *testing.T) {
	srv := devServer(t)
	file := filepath.Join(srv.catalog, "components.yaml")
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	const before = "Sends e-mails and text messages when a parcel is out for delivery or delivered."
	const after = "Sends e-mails, text messages and push notifications about parcels."
	if !strings.Contains(string(raw), before) {
		t.Fatal("the example catalog changed: notification-service's description is not the one this test edits")
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(raw), before, after, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	srv.api(t, "POST", "/api/catalog/refresh", map[string]string{"entityRef": "component:default/notification-service"}, nil)

	b := newBrowser(t, srv)
	b.open(t, "/catalog/default/component/notification-service")
	b.waitText(t, "#history", "Version 2", 10*time.Second)
	diff := b.text(t, "#history .timeline li .diff")
	for _, want := range []string{"metadata.description", before, after} {
		if !strings.Contains(diff, want) {
			t.Errorf("the newest version's diff %q lacks %q", diff, want)
		}
	}
	b.shot(t, "entity-history")
}

// TestBadgeChangesLive keeps an entity's page open while facts are
// reported through the API: the check turns from failing to passing on the
// page, without a reload.
func TestBadgeChangesLive(t *testing.T) {
	srv := devServer(t)
	b := newBrowser(t, srv)
	b.open(t, "/catalog/default/component/tracking-service")
	sel := `#badges [data-policy="test-certification"] li[data-check="coverage"]`
	b.waitText(t, sel, "coverage", 10*time.Second)
	if cls := eval[string](t, b, `document.querySelector('`+sel+`').className`); cls != "fail" {
		t.Fatalf("before any fact, the coverage check is %q, want fail", cls)
	}
	waitStream(t, b)
	eval[bool](t, b, "window.__sameDocument = true")
	srv.api(t, "POST", "/api/facts", map[string]any{"items": []map[string]any{{
		"entity": "component:default/tracking-service", "source": "ci",
		"facts":      map[string]any{"coverage": 91, "mainBranchPassing": true},
		"observedAt": time.Now().UTC().Format(time.RFC3339),
	}}}, nil)
	deadline := time.Now().Add(15 * time.Second)
	for eval[string](t, b, `document.querySelector('`+sel+`').className`) != "pass" {
		if time.Now().After(deadline) {
			t.Fatalf("the coverage check did not turn to pass on the open page: %s", b.text(t, "#badges"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !eval[bool](t, b, "window.__sameDocument === true") {
		t.Error("the page reloaded; the badge should change in place")
	}
	b.waitText(t, "[data-stream-log]", "backlot.", 5*time.Second)
	b.waitText(t, "#facts", "coverage", 5*time.Second)
	b.shot(t, "entity-badge-live")
}

// waitStream waits until the page's event stream is connected.
func waitStream(t *testing.T, b *browser) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for eval[string](t, b, `document.querySelector("[data-stream]").getAttribute("data-stream-state") || ""`) != "connected" {
		if time.Now().After(deadline) {
			t.Fatal("the page's event stream did not connect")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAsOfShowsRemovedEntity removes an entity, then finds it in the
// catalog as of an instant before, opens it as it was, and sees its page
// now say it is gone.
func TestAsOfShowsRemovedEntity(t *testing.T) {
	srv := devServer(t)
	var e struct{ Metadata struct{ UID string } }
	srv.api(t, "GET", "/api/catalog/entities/by-name/resource/default/notifications-queue", nil, &e)
	time.Sleep(20 * time.Millisecond)
	then := time.Now().UTC().Format(time.RFC3339Nano)
	time.Sleep(20 * time.Millisecond)
	srv.api(t, "DELETE", "/api/catalog/entities/by-uid/"+e.Metadata.UID, nil, nil)

	b := newBrowser(t, srv)
	const link = `#results a[href^="/catalog/default/resource/notifications-queue"]`
	b.open(t, "/catalog?kind=all&q=notifications-queue")
	b.waitText(t, "#results", "shown of", 10*time.Second)
	if n := b.count(t, link); n != 0 {
		t.Errorf("the catalog now still lists the removed notifications-queue")
	}
	b.open(t, "/catalog?kind=all&q=notifications-queue&asOf="+then)
	b.waitText(t, ".asof", then, 10*time.Second)
	if n := b.count(t, link); n != 1 {
		t.Fatalf("the catalog as of %s lists notifications-queue %d times, want once: %s", then, n, b.text(t, "#results"))
	}
	b.shot(t, "catalog-asof")
	b.axe(t, "catalog as of")
	b.click(t, `#results a[href^="/catalog/default/resource/notifications-queue"]`)
	b.waitText(t, "#overview", "notifications-queue", 10*time.Second)
	if loc := b.location(t); !strings.Contains(loc, "asOf=") {
		t.Errorf("the entity link left the instant: %s", loc)
	}
	b.open(t, "/catalog/default/resource/notifications-queue")
	b.waitText(t, "main", "is not in the catalog", 10*time.Second)
	b.waitText(t, "#history", "removed", 5*time.Second)
}
