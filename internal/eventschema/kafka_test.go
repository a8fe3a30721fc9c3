package eventschema_test

import (
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/kafkalog"
	"backlot.dev/backlot/internal/eventschema"
	"backlot.dev/backlot/internal/messaging"
	"backlot.dev/backlot/internal/statefeed"
)

// binaryMode returns the headers kafkalog writes for e (CloudEvents binary mode).
func binaryMode(e event.Envelope) map[string]string {
	h := map[string]string{
		kafkalog.HeaderID: e.ID, kafkalog.HeaderSource: e.Source, kafkalog.HeaderSpecVersion: e.SpecVersion,
		kafkalog.HeaderType: e.Type, kafkalog.HeaderSubject: e.Subject, kafkalog.HeaderTime: e.Time.UTC().Format(time.RFC3339Nano),
		kafkalog.HeaderDataSchema: e.DataSchema, kafkalog.HeaderActor: e.Actor, kafkalog.HeaderCommit: e.Commit,
		kafkalog.HeaderCorrelationID: e.CorrelationID, kafkalog.HeaderContentType: e.DataContentType,
	}
	for k, v := range h {
		if v == "" {
			delete(h, k)
		}
	}
	return h
}

func TestTopicAndHeaderNamesAreTheAdapters(t *testing.T) {
	t.Parallel()
	if eventschema.HistoryTopic != kafkalog.EventsTopic || eventschema.StateTopic != statefeed.Topic ||
		eventschema.DefaultTopicPrefix != kafkalog.DefaultTopicPrefix || eventschema.HeaderContentType != kafkalog.HeaderContentType {
		t.Fatal("topic or header names differ from kafkalog's and statefeed's")
	}
	props := schemaDoc(t, eventschema.StateHeadersSchema)["properties"].(map[string]any)
	for _, h := range []string{statefeed.MetaEventID, statefeed.MetaEventType, messaging.MetaContentType, messaging.MetaCorrelationID, "_watermill_message_uuid"} {
		if _, ok := props[h]; !ok {
			t.Errorf("the state headers schema does not declare %s", h)
		}
	}
	props = schemaDoc(t, eventschema.HistoryHeadersSchema)["properties"].(map[string]any)
	for _, h := range []string{kafkalog.HeaderID, kafkalog.HeaderSource, kafkalog.HeaderSpecVersion, kafkalog.HeaderType, kafkalog.HeaderSubject,
		kafkalog.HeaderTime, kafkalog.HeaderDataSchema, kafkalog.HeaderActor, kafkalog.HeaderCommit, kafkalog.HeaderCorrelationID, kafkalog.HeaderContentType} {
		if _, ok := props[h]; !ok {
			t.Errorf("the history headers schema does not declare %s", h)
		}
	}
}

func TestKafkaRecords(t *testing.T) {
	t.Parallel()
	v := eventschema.Default()
	history := "backlot." + eventschema.HistoryTopic
	state := "backlot-test-0123456789ab." + eventschema.StateTopic
	ps := payloads(t)
	for _, typ := range eventTypes(t) {
		ev, err := event.New(event.Type(typ), subject(event.Type(typ)), ps[event.Type(typ)][0], event.Meta{Actor: "user:default/guest", CorrelationID: "c1"})
		if err != nil {
			t.Fatal(err)
		}
		if err := v.ValidateKafkaRecord(history, binaryMode(ev), []byte(ev.Subject), ev.Data); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
	}
	ev, _ := event.New(event.TypeEntityRemoved, "component:default/x", event.EntityRemoved{Ref: "component:default/x", UID: "u", Reason: "r"}, event.Meta{})
	states := renderState(t)
	stateHeaders := map[string]string{statefeed.MetaEventID: ev.ID, statefeed.MetaEventType: ev.Type,
		messaging.MetaContentType: event.ContentTypeJSON, "_watermill_message_uuid": ev.ID + "/component:default/checkout"}
	if err := v.ValidateKafkaRecord(state, stateHeaders, []byte("component:default/checkout"), states[0]); err != nil {
		t.Errorf("state of checkout: %v", err)
	}
	if err := v.ValidateKafkaRecord(state, stateHeaders, []byte("component:default/x"), nil); err != nil {
		t.Errorf("a tombstone: %v", err)
	}
	without := func(h map[string]string, k string) map[string]string {
		out := map[string]string{}
		for x, y := range h {
			if x != k {
				out[x] = y
			}
		}
		return out
	}
	with := func(h map[string]string, k, val string) map[string]string {
		out := without(h, k)
		out[k] = val
		return out
	}
	h := binaryMode(ev)
	for _, c := range []struct {
		name       string
		topic      string
		headers    map[string]string
		key, value string
		want       string
	}{
		{"history without ce_id", history, without(h, "ce_id"), ev.Subject, string(ev.Data), "missing property 'ce_id'"},
		{"history without content-type", history, without(h, "content-type"), ev.Subject, string(ev.Data), "missing property 'content-type'"},
		{"history with a bad time", history, with(h, "ce_time", "2026-13-01"), ev.Subject, string(ev.Data), "/ce_time: "},
		{"history keyed by another ref", history, h, "component:default/y", string(ev.Data), "is not the event's subject"},
		{"history with broken data", history, h, ev.Subject, `{"ref":1}`, "/data/ref: "},
		{"history with no value", history, h, ev.Subject, "", "/data: empty document"},
		{"history of an unknown type", history, with(with(h, "ce_type", "backlot.entity.renamed.v1"), "ce_dataschema", "https://backlot.dev/x"), ev.Subject, "{}", "unknown event type"},
		{"state keyed by a display ref", state, stateHeaders, "component:default/Checkout", string(states[0]), "not a canonical entity ref"},
		{"state under another key", state, stateHeaders, "component:default/billing", string(states[0]), "describes component:default/checkout"},
		{"state without its event id", state, without(stateHeaders, statefeed.MetaEventID), "component:default/checkout", string(states[0]), "missing property 'backlot_event_id'"},
		{"state with a broken entity", state, stateHeaders, "component:default/checkout", `{"apiVersion":"v","kind":"Component","metadata":{"name":"checkout"}}`, "missing property 'relations'"},
		{"another topic", "backlot.other", h, ev.Subject, string(ev.Data), "neither the history topic"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var value []byte
			if c.value != "" {
				value = []byte(c.value)
			}
			err := v.ValidateKafkaRecord(c.topic, c.headers, []byte(c.key), value)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error with %q", err, c.want)
			}
		})
	}
}
