package badging

import (
	"reflect"
	"testing"

	"backlot.dev/backlot/domain/event"
)

// TestTriggersIgnoreWhatIsPassedOver checks that every event passedOver
// lets the evaluator skip is one triggers asks nothing of, whatever its
// type, actor and subject.
func TestTriggersIgnoreWhatIsPassedOver(t *testing.T) {
	t.Parallel()
	types := []event.Type{event.TypeLocationRegistered, event.TypeLocationRemoved, event.TypeEntityUpserted, event.TypeEntityRemoved,
		event.TypeProcessingErrorRecorded, event.TypeProcessingErrorCleared, event.TypeFactsReported, event.TypeFactSourceDeclared,
		event.TypeBadgeAwarded, event.TypeBadgeRevoked, event.TypeCheckChanged, event.TypeTaskStarted, event.TypeTaskFinished,
		event.TypeMigrationChanged, event.TypeMigrationTargetChanged, event.TypePermissionDenied}
	passed := 0
	for _, typ := range types {
		for _, actor := range []string{CollectorActor, RefreshCollectorActor, EvaluatorActor, "user:default/guest"} {
			for _, subject := range []string{"component:default/web", "policy:default/tc", "Policy:default/TC"} {
				ev := event.Envelope{Type: string(typ), Actor: actor, Subject: subject, Data: []byte(`{"state":"merged"}`)}
				if !passedOver(&ev) {
					continue
				}
				passed++
				w := triggers([]event.Envelope{ev})
				if len(w.keys) > 0 || len(w.upserted) > 0 || len(w.recollect) > 0 || len(w.commits) > 0 || w.policies || w.full {
					t.Errorf("%s by %s about %s is passed over, but triggers asks %+v of it", typ, actor, subject, w)
				}
			}
		}
	}
	// The badge events (3 types) and the collectors' facts about a component.
	if want := 3*4*3 + 1; passed != want {
		t.Errorf("%d events passed over, want %d", passed, want)
	}
}

// TestOwnEventsArePassedInRuns checks noteOwn and passOwn: runs of
// consecutive own events are passed from their start, an event the
// evaluator acts on or another writer's event ends a run, and runs behind
// the position are forgotten.
func TestOwnEventsArePassedInRuns(t *testing.T) {
	t.Parallel()
	e := &Evaluator{}
	badge := func(p int32, pos int64) event.Envelope {
		return event.Envelope{Type: string(event.TypeBadgeAwarded), Partition: p, Position: pos}
	}
	facts := func(p int32, pos int64, actor string) event.Envelope {
		return event.Envelope{Type: string(event.TypeFactsReported), Actor: actor, Subject: "component:default/web", Partition: p, Position: pos}
	}
	// Partition 0: 5-8 own; 9 is another writer's (not appended here); 10-11
	// own, 12 facts the evaluator acts on, 13 own. Partition 1: 3-4 own.
	e.noteOwn([]event.Envelope{facts(0, 5, CollectorActor), badge(0, 6), badge(0, 7), badge(0, 8)})
	e.noteOwn([]event.Envelope{badge(0, 10), badge(0, 11), facts(0, 12, RefreshCollectorActor), badge(0, 13), badge(1, 3), badge(1, 4)})
	for _, step := range []struct {
		from   event.Positions
		passed event.Positions
		n      int
	}{
		{from: event.Positions{0: 3, 1: 1}}, // 4 and 2 are not own
		{from: event.Positions{0: 4, 1: 2}, passed: event.Positions{0: 8, 1: 4}, n: 6},
		{from: event.Positions{0: 8, 1: 4}}, // 9 is not own
		{from: event.Positions{0: 9, 1: 4}, passed: event.Positions{0: 11}, n: 2},
		{from: event.Positions{0: 12, 1: 4}, passed: event.Positions{0: 13}, n: 1},
		{from: event.Positions{0: 13, 1: 4}},
	} {
		passed, n := e.passOwn(step.from)
		if !reflect.DeepEqual(passed, step.passed) || n != step.n {
			t.Errorf("after %v: passed %v (%d events), want %v (%d)", step.from, passed, n, step.passed, step.n)
		}
	}
	if len(e.own) != 0 {
		t.Errorf("runs left: %v", e.own)
	}
}
