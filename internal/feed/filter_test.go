package feed_test

import (
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/feed"
)

func TestFilterMatches(t *testing.T) {
	t.Parallel()
	ev := &event.Envelope{Subject: "component:default/a", Type: "backlot.entity.upserted.v1"}
	for _, tc := range []struct {
		name string
		f    feed.Filter
		want bool
	}{
		{"no filter", feed.Filter{}, true},
		{"subject", feed.Filter{Subject: "component:default/a"}, true},
		{"other subject", feed.Filter{Subject: "component:default/b"}, false},
		{"one of the types", feed.Filter{Types: []string{"backlot.entity.removed.v1", "backlot.entity.upserted.v1"}}, true},
		{"none of the types", feed.Filter{Types: []string{"backlot.entity.removed.v1"}}, false},
		{"subject and type", feed.Filter{Subject: "component:default/a", Types: []string{"backlot.entity.upserted.v1"}}, true},
		{"subject but not type", feed.Filter{Subject: "component:default/a", Types: []string{"backlot.entity.removed.v1"}}, false},
	} {
		if got := tc.f.Matches(ev); got != tc.want {
			t.Errorf("%s: Matches = %v, want %v", tc.name, got, tc.want)
		}
	}
}
