package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"testing"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/projections/badges/badgetest"
	"backlot.dev/backlot/projections/badges/sqlitebadges"
	"backlot.dev/backlot/projections/catalogstore"
)

// seriesLagging is the form of a LaggingHeader value of the series answers.
var seriesLagging = regexp.MustCompile(`^(series|campaigns);age=([0-9]+\.[0-9]{3})$`)

// TestPolicySeriesLagBehindManyChanges serves a policy's level history and
// campaigns through scorecards exact up to 3 changes of its verdicts: before
// any change both are exact, without LaggingHeader; after a change of a
// policy with 30 changes the answers from before are served, marked
// "series" and "campaigns" with their age, and nothing is replayed on the
// request.
func TestPolicySeriesLagBehindManyChanges(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	ent, err := catalog.NewEntity(map[string]any{"apiVersion": "backlot.dev/v1alpha1", "kind": "Policy",
		"metadata": map[string]any{"name": "tc"},
		"spec": map[string]any{"selector": "true", "levels": []any{"bronze", "silver"},
			"checks": []any{map[string]any{"id": "a", "level": "bronze", "rule": "true", "message": "a"},
				map[string]any{"id": "b", "level": "silver", "rule": "true", "message": "b"}},
			"campaigns": []any{map[string]any{"id": "all-silver", "level": "silver", "deadline": "2099-01-01"}}}})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := event.New(event.TypeEntityUpserted, ent.Ref().Key(), event.EntityUpserted{Ref: ent.Ref().String(), UID: "uid-tc",
		Hash: catalog.HashJSON(ent.JSON()), Entity: ent.JSON(), LocationID: testLocationID, ManagedBy: "url:x", OriginLocation: "url:x"},
		event.Meta{Actor: "user:default/test"})
	if err != nil {
		t.Fatal(err)
	}
	pol.Position = 1
	if err := store.Apply(ctx, []event.Envelope{pol}); err != nil {
		t.Fatal(err)
	}
	bs, err := sqlitebadges.Open(filepath.Join(t.TempDir(), "badges.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.Close() })
	var next int64 = 1
	apply := func(typ event.Type, entity, level string, rank int) {
		t.Helper()
		ev := badgetest.BadgeEvent(t, 0, next, typ, entity, level, rank, true)
		next++
		if err := bs.Apply(ctx, []event.Envelope{ev}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 30 {
		apply(event.TypeBadgeAwarded, "component:default/v-"+strconv.Itoa(i), []string{"", "bronze", "silver"}[i%3], i%3)
	}
	scores := badging.NewScorecards(bs, catalogstore.LagOptions{ExactUpTo: 3, MaxLag: time.Hour, RefreshEvery: time.Hour})
	h, err := New(Config{Reader: store, Writer: &fakeWriter{}, Logger: slog.New(slog.DiscardHandler), Guest: &testGuest,
		Badges: bs, Scorecards: scores})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	get := func(path string) (json.RawMessage, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp := send(t, req)
		if resp.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.status, resp.body)
		}
		return resp.body, resp.header.Get(LaggingHeader)
	}
	const (
		series    = "/api/policies/tc/history?bucket=hour"
		campaigns = "/api/policies/tc/campaigns?bucket=hour"
	)
	before := map[string]json.RawMessage{}
	for _, path := range []string{series, campaigns} {
		body, lag := get(path)
		if lag != "" {
			t.Fatalf("GET %s before any change: marked %s: %q", path, LaggingHeader, lag)
		}
		before[path] = body
	}
	var s struct {
		Series []badging.SeriesPoint `json:"series"`
	}
	if err := json.Unmarshal(before[series], &s); err != nil || len(s.Series) == 0 || s.Series[len(s.Series)-1].Counts["silver"] != 10 {
		t.Fatalf("the history before any change does not end at 10 silver (%v): %s", err, before[series])
	}
	recounts := scores.Stats().Recomputes
	time.Sleep(20 * time.Millisecond)
	apply(event.TypeBadgeRevoked, "component:default/v-2", "", 0)
	for path, part := range map[string]string{series: laggingSeries, campaigns: laggingCampaigns} {
		body, lag := get(path)
		m := seriesLagging.FindStringSubmatch(lag)
		if m == nil || m[1] != part {
			t.Errorf("GET %s after a change: %s = %q, want %s;age=SECONDS", path, LaggingHeader, lag, part)
		}
		if !reflect.DeepEqual(body, before[path]) {
			t.Errorf("GET %s after a change: not the answer from before:\n%s\nwant\n%s", path, body, before[path])
		}
	}
	if got := scores.Stats().Recomputes; got != recounts {
		t.Errorf("requests after a change recounted %d times; a lagging answer is served without a recount", got-recounts)
	}
}
