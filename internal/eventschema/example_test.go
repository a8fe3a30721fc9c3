package eventschema_test

import (
	"encoding/json"
	"fmt"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventschema"
)

// A consumer or a test checks an event, as the HTTP feed carries it, against
// the published schemas.
func ExampleValidator_ValidateEnvelope() {
	ev, _ := event.New(event.TypeEntityRemoved, "component:default/checkout",
		event.EntityRemoved{Ref: "component:default/checkout", UID: "3f1c", Reason: "deleted through the API"}, event.Meta{})
	raw, _ := json.Marshal(ev)
	fmt.Println(eventschema.Default().ValidateEnvelope(raw))

	fmt.Println(eventschema.Default().ValidateData(ev.Type, []byte(`{"ref":"component:default/checkout","reason":7}`)))
	// Output:
	// <nil>
	// backlot.entity.removed.v1 data does not match backlot.entity.removed.v1.json: missing property 'uid'; /reason: got number, want string
}

// The state topic's records: a tombstone is a valid record.
func ExampleValidator_ValidateKafkaRecord() {
	headers := map[string]string{"backlot_event_id": "e1", "backlot_event_type": "backlot.entity.removed.v1", "content-type": "application/json"}
	err := eventschema.Default().ValidateKafkaRecord("backlot.catalog.entities.v1", headers, []byte("component:default/checkout"), nil)
	fmt.Println(err)
	// Output: <nil>
}
