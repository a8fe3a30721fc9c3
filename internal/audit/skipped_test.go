package audit_test

import (
	"slices"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/audit"
)

// TestSkippedTypesAreNotFolded checks a reader may hand the events of
// SkippedTypes over without their data: Apply counts such an event and
// changes nothing, while an event of a type it folds without its data fails,
// so that listing a folded type among the skipped ones cannot go unseen.
func TestSkippedTypesAreNotFolded(t *testing.T) {
	t.Parallel()
	skipped := audit.SkippedTypes()
	if len(skipped) == 0 {
		t.Fatal("no type is skipped")
	}
	for _, typ := range skipped {
		if !event.Type(typ).Known() {
			t.Errorf("%s is not a type Backlot writes", typ)
		}
		if slices.Contains(audit.FoldedTypes, event.Type(typ).Latest()) {
			t.Errorf("%s is skipped but folded", typ)
		}
		r := audit.NewReplay()
		if err := r.Apply([]event.Envelope{{ID: "e1", Type: typ, Subject: "component:default/a"}}); err != nil {
			t.Errorf("%s without its data: %v", typ, err)
		}
		if r.Events() != 1 || r.Len() != 0 {
			t.Errorf("%s without its data: %d events, %d entities; want 1, 0", typ, r.Events(), r.Len())
		}
	}
	for _, typ := range audit.FoldedTypes {
		r := audit.NewReplay()
		if err := r.Apply([]event.Envelope{{ID: "e1", Type: string(typ), Subject: "component:default/a"}}); err == nil {
			t.Errorf("%s folded without its data: no error", typ)
		}
	}
}
