package golden

import (
	"encoding/json"
	"fmt"

	"backlot.dev/backlot/domain/event"
)

// payloads maps every event type Backlot writes to a new value of the Go type
// its data decodes into. A type written to the log and missing here fails
// CheckPayloads, so a new event type is added here (and to the golden log of
// the next release) in the commit that introduces it.
var payloads = map[event.Type]func() any{
	event.TypeLocationRegistered:      func() any { return new(event.LocationRegistered) },
	event.TypeLocationRemoved:         func() any { return new(event.LocationRemoved) },
	event.TypeEntityUpserted:          func() any { return new(event.EntityUpserted) },
	event.TypeEntityRemoved:           func() any { return new(event.EntityRemoved) },
	event.TypeProcessingErrorRecorded: func() any { return new(event.ProcessingErrorRecorded) },
	event.TypeProcessingErrorCleared:  func() any { return new(event.ProcessingErrorCleared) },
	event.TypeFactsReported:           func() any { return new(event.FactsReported) },
	event.TypeFactSourceDeclared:      func() any { return new(event.FactSourceDeclared) },
	event.TypeBadgeAwarded:            func() any { return new(event.BadgeChanged) },
	event.TypeBadgeRevoked:            func() any { return new(event.BadgeChanged) },
	event.TypeCheckChanged:            func() any { return new(event.BadgeChanged) },
	event.TypeTaskStarted:             func() any { return new(event.TaskStarted) },
	event.TypeTaskFinished:            func() any { return new(event.TaskFinished) },
	event.TypeMigrationChanged:        func() any { return new(event.MigrationChanged) },
	event.TypeMigrationTargetChanged:  func() any { return new(event.MigrationTargetChanged) },
	event.TypePermissionDenied:        func() any { return new(event.PermissionDenied) },
}

// PayloadError says that an event of the log no longer fits the Go type its
// data decodes into: a field renamed, removed or retyped within a version.
type PayloadError struct {
	// Position and ID identify the event; Type is its type as stored and
	// ReadAs the newest version it was upcast to.
	Position int64
	ID       string
	Type     string
	ReadAs   event.Type
	// GoType is the payload type the data was decoded into.
	GoType string
	// Problems lists each field that did not survive: its path in data and
	// what was stored versus what the Go type reads back.
	Problems []string
}

// Error names the event type, the Go type and every field.
func (e *PayloadError) Error() string {
	s := fmt.Sprintf("event type %s (position %d, id %s): its data no longer fits %s", e.Type, e.Position, e.ID, e.GoType)
	if e.ReadAs != event.Type(e.Type) {
		s += " (read as " + string(e.ReadAs) + ")"
	}
	for _, p := range e.Problems {
		s += "\n\tdata." + p
	}
	return s
}

// CheckPayloads decodes every event's data, upcast to the newest version of
// its type, into that version's Go payload type, encodes it again and
// compares: every field the log stored must come back with the same value
// (fields the Go type leaves empty may be omitted; new optional fields are
// fine). This is what a renamed or retyped field breaks first, and the error
// names the event type and the field rather than a read-model difference.
func CheckPayloads(events []event.Envelope) error {
	for i := range events {
		if err := checkPayload(&events[i]); err != nil {
			return err
		}
	}
	return nil
}

func checkPayload(ev *event.Envelope) error {
	latest := event.Type(ev.Type).Latest()
	newPayload, ok := payloads[latest]
	if !ok {
		return &PayloadError{Position: ev.Position, ID: ev.ID, Type: ev.Type, ReadAs: latest, GoType: "(none)",
			Problems: []string{"(type): no Go payload type is known for " + string(latest) + "; a type in a golden log must stay readable"}}
	}
	v := newPayload()
	perr := &PayloadError{Position: ev.Position, ID: ev.ID, Type: ev.Type, ReadAs: latest, GoType: fmt.Sprintf("%T", v)}
	if err := ev.Decode(v); err != nil {
		perr.Problems = []string{"(decode): " + err.Error()}
		return perr
	}
	back, err := json.Marshal(v)
	if err != nil {
		perr.Problems = []string{"(encode): " + err.Error()}
		return perr
	}
	up, err := event.Upcast(*ev)
	if err != nil {
		perr.Problems = []string{"(upcast): " + err.Error()}
		return perr
	}
	stored, err := parseJSON(up.Data)
	if err != nil {
		perr.Problems = []string{"(stored): " + err.Error()}
		return perr
	}
	again, err := parseJSON(back)
	if err != nil {
		perr.Problems = []string{"(encoded): " + err.Error()}
		return perr
	}
	var diffs []string
	walkDiff("", stored, again, sides{"the log holds", perr.GoType + " reads back", true}, &diffs)
	if len(diffs) > 0 {
		if len(diffs) > maxDiffs {
			diffs = append(diffs[:maxDiffs], fmt.Sprintf("… and %d more", len(diffs)-maxDiffs))
		}
		perr.Problems = diffs
		return perr
	}
	return nil
}
