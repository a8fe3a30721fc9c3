package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/projections/catalogstore"
)

// recordingFacts takes every report and records its actor.
type recordingFacts struct {
	mu      sync.Mutex
	reports []string
}

func (f *recordingFacts) Report(_ context.Context, actor string, items []badging.FactItem) (event.Positions, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, it := range items {
		f.reports = append(f.reports, actor+" "+it.Entity)
	}
	return event.Positions{0: 1}, nil
}

func (f *recordingFacts) DeclareSource(context.Context, string, string, json.RawMessage) (event.Positions, error) {
	return nil, nil
}

func (f *recordingFacts) reported() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reports)
}

// errReadersAsked is what readersRefused answers a look-up of entities.
var errReadersAsked = errors.New("a fact report looked its entities up on the readers' catalog")

// readersRefused is a catalog that refuses to look entities up by key:
// the readers' catalog, which a fact report with a FactsReader must not ask.
type readersRefused struct{ catalogstore.Reader }

func (readersRefused) ByKeys(context.Context, []string) ([]*catalogstore.EntityView, error) {
	return nil, errReadersAsked
}

// A fact report with Config.FactsReader resolves its entities and their
// owners' members through it, not through Reader, and its permission check
// is as strict: the owner group and a member by the catalog report, another
// team is refused.
func TestFactReportAuthorizesThroughTheFactsReader(t *testing.T) {
	t.Parallel()
	facts := &recordingFacts{}
	af := newAuthzFixture(t, func(c *Config) {
		c.FactsReader = c.Reader
		c.Reader = readersRefused{c.Reader}
		c.Facts = facts
	})
	report := `{"items":[{"entity":"component:default/checkout","source":"ci","facts":{"coverage":80}}]}`
	for _, tc := range []struct {
		name, token string
		want        int
	}{
		{"the owner group", "ada", 200},
		{"a member by the catalog", "jdoe", 200},
		{"another team", "bob", 403},
	} {
		if got := af.as(t, tc.token, "POST", "/api/facts", report); got.status != tc.want {
			t.Errorf("%s reports facts about its entity: %d %s, want %d", tc.name, got.status, got.body, tc.want)
		}
	}
	want := []string{"user:default/ada component:default/checkout", "user:default/jdoe component:default/checkout"}
	if got := facts.reported(); !slices.Equal(got, want) {
		t.Fatalf("reports taken: %q, want %q", got, want)
	}
}
