package policies

import (
	"strings"
	"testing"

	"backlot.dev/backlot/domain/event"
)

func TestEventFilter(t *testing.T) {
	ev, err := event.New(event.TypeEntityUpserted, "component:default/checkout", map[string]any{
		"ref": "component:default/checkout", "entity": map[string]any{"spec": map[string]any{"owner": "team-a"}},
	}, event.Meta{Actor: "user:default/ada"})
	if err != nil {
		t.Fatal(err)
	}
	for expr, want := range map[string]bool{
		``: true,
		`event.type == "backlot.entity.upserted.v1"`:                                  true,
		`event.data.entity.spec.owner == "team-a" && event.actor.startsWith("user:")`: true,
		`event.subject.endsWith("/billing")`:                                          false,
		`event.data.entity.spec.lifecycle == "production"`:                            false, // a missing field does not match
	} {
		f, err := CompileEventFilter(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		got, _ := f.Match(&ev)
		if got != want {
			t.Errorf("%s = %v, want %v", expr, got, want)
		}
	}
	for _, bad := range []string{`event.type ==`, `event.subject`, `1 + 2`, strings.Repeat("a", MaxFilterLength+1)} {
		if _, err := CompileEventFilter(bad); err == nil {
			t.Errorf("%q compiled", bad)
		}
	}
}
