package eventschema_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventschema"
)

// pointer resolves a JSON pointer (without the leading #) in doc.
func pointer(doc any, ptr string) (any, bool) {
	if ptr == "" {
		return doc, true
	}
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := doc.(map[string]any)
		if !ok {
			return nil, false
		}
		if doc, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return doc, true
}

// refs calls f with every $ref in doc and the path it was found at.
func refs(doc any, path string, f func(ref, path string)) {
	switch d := doc.(type) {
	case map[string]any:
		for k, x := range d {
			if s, ok := x.(string); ok && k == "$ref" {
				f(s, path)
				continue
			}
			refs(x, path+"/"+k, f)
		}
	case []any:
		for _, x := range d {
			refs(x, path+"/[]", f)
		}
	}
}

// m is a JSON object, or fails the test.
func m(t *testing.T, x any, what string) map[string]any {
	t.Helper()
	o, ok := x.(map[string]any)
	if !ok {
		t.Fatalf("%s is not an object: %v", what, x)
	}
	return o
}

func TestAsyncAPIDocument(t *testing.T) {
	t.Parallel()
	var doc map[string]any
	if err := json.Unmarshal(eventschema.AsyncAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["asyncapi"] != "3.0.0" {
		t.Fatalf("asyncapi %v, want 3.0.0", doc["asyncapi"])
	}

	// Every reference resolves: #/… inside the document, schemas/<file>#/… to an
	// embedded schema; and every reference inside the schemas resolves too.
	n := 0
	refs(doc, "", func(ref, path string) {
		n++
		file, frag, _ := strings.Cut(ref, "#")
		target := any(doc)
		if file != "" {
			name, ok := strings.CutPrefix(file, "schemas/")
			raw, found := eventschema.Schema(name)
			if !ok || !found || !strings.HasSuffix(name, ".json") {
				t.Errorf("%s: $ref %s is not an embedded schema", path, ref)
				return
			}
			json.Unmarshal(raw, &target)
		}
		if _, ok := pointer(target, frag); !ok {
			t.Errorf("%s: $ref %s does not resolve", path, ref)
		}
	})
	if n < 20 {
		t.Fatalf("only %d references in the document", n)
	}
	for _, name := range eventschema.Names() {
		var sch any
		raw, _ := eventschema.Schema(name)
		json.Unmarshal(raw, &sch)
		refs(sch, name, func(ref, path string) {
			file, frag, _ := strings.Cut(ref, "#")
			target := sch
			if file != "" {
				raw, ok := eventschema.Schema(file)
				if !ok || strings.Contains(file, "/") {
					t.Errorf("%s: $ref %s is not a sibling schema file", path, ref)
					return
				}
				json.Unmarshal(raw, &target)
			}
			if _, ok := pointer(target, frag); !ok {
				t.Errorf("%s: $ref %s does not resolve", path, ref)
			}
		})
	}

	servers := m(t, doc["servers"], "servers")
	if m(t, servers["kafka"], "servers.kafka")["protocol"] != "kafka" || m(t, servers["http"], "servers.http")["protocol"] != "http" {
		t.Errorf("servers: %v", servers)
	}

	// Every event type has a message, carried by the history channel and its
	// operation, with its data schema as payload.
	messages := m(t, m(t, doc["components"], "components")["messages"], "components.messages")
	channels := m(t, doc["channels"], "channels")
	byAddress := map[string]map[string]any{}
	for name, c := range channels {
		ch := m(t, c, "channel "+name)
		byAddress[ch["address"].(string)] = ch
	}
	history := byAddress[eventschema.DefaultTopicPrefix+eventschema.HistoryTopic]
	state := byAddress[eventschema.DefaultTopicPrefix+eventschema.StateTopic]
	if history == nil || state == nil || byAddress["/api/events"] == nil || byAddress["/api/events/stream"] == nil {
		t.Fatalf("channels by address: %v", slices.Sorted(func(yield func(string) bool) {
			for a := range byAddress {
				if !yield(a) {
					return
				}
			}
		}))
	}
	ops := m(t, doc["operations"], "operations")
	var historyOps []string
	for name, o := range ops {
		op := m(t, o, "operation "+name)
		if m(t, op["channel"], name+".channel")["$ref"] == "#/channels/history" {
			for _, x := range op["messages"].([]any) {
				historyOps = append(historyOps, m(t, x, name+".messages[]")["$ref"].(string))
			}
		}
	}
	for _, typ := range eventTypes(t) {
		msg, ok := messages[typ].(map[string]any)
		if !ok {
			t.Errorf("no message %s in components.messages", typ)
			continue
		}
		if m(t, msg["payload"], typ+".payload")["$ref"] != "schemas/"+typ+".json" {
			t.Errorf("message %s: payload %v", typ, msg["payload"])
		}
		if m(t, msg["headers"], typ+".headers")["$ref"] != "schemas/"+eventschema.HistoryHeadersSchema {
			t.Errorf("message %s: headers %v", typ, msg["headers"])
		}
		if _, ok := m(t, history["messages"], "history.messages")[typ]; !ok {
			t.Errorf("the history channel does not carry %s", typ)
		}
		if !slices.Contains(historyOps, "#/channels/history/messages/"+typ) {
			t.Errorf("no operation receives %s", typ)
		}
	}

	// Both topics with their Kafka bindings: topic, cleanup policy, and messages
	// keyed by the entity ref.
	for _, c := range []struct {
		ch      map[string]any
		topic   string
		cleanup string
	}{
		{history, eventschema.DefaultTopicPrefix + eventschema.HistoryTopic, "delete"},
		{state, eventschema.DefaultTopicPrefix + eventschema.StateTopic, "compact"},
	} {
		kb := m(t, m(t, c.ch["bindings"], c.topic+".bindings")["kafka"], c.topic+".bindings.kafka")
		if kb["topic"] != c.topic || kb["bindingVersion"] != "0.5.0" {
			t.Errorf("%s: kafka binding %v", c.topic, kb)
		}
		policy, _ := m(t, kb["topicConfiguration"], c.topic+" topicConfiguration")["cleanup.policy"].([]any)
		if len(policy) != 1 || policy[0] != c.cleanup {
			t.Errorf("%s: cleanup.policy %v, want [%s]", c.topic, policy, c.cleanup)
		}
		if !strings.Contains(c.ch["description"].(string), "Murmur2") {
			t.Errorf("%s: the description does not say how records are placed and ordered", c.topic)
		}
		for name, x := range m(t, c.ch["messages"], c.topic+".messages") {
			ref := m(t, x, name)["$ref"].(string)
			msg, ok := pointer(doc, strings.TrimPrefix(ref, "#"))
			if !ok {
				t.Fatalf("%s: message %s: %s", c.topic, name, ref)
			}
			key := m(t, m(t, m(t, msg, name)["bindings"], name+".bindings")["kafka"], name+".bindings.kafka")["key"]
			want := "schemas/common.v1.json#/$defs/entityKey"
			switch event.Type(name) {
			case event.TypeFactSourceDeclared:
				want = "schemas/common.v1.json#/$defs/factSourceKey" // keyed by factsource:<name>
			case event.TypeTaskStarted, event.TypeTaskFinished:
				want = "schemas/common.v1.json#/$defs/taskKey" // keyed by task:<id>
			case event.TypeMigrationChanged:
				want = "schemas/common.v1.json#/$defs/migrationKey" // keyed by migration:<id>
			case event.TypePermissionDenied:
				want = "schemas/common.v1.json#/$defs/principalKey" // keyed by principal:<ref>
			}
			if m(t, key, name+" key")["$ref"] != want {
				t.Errorf("%s: message %s: key %v, want %s", c.topic, name, key, want)
			}
		}
	}
	first := eventschema.AsyncAPI()
	first[0] = 'x'
	if !json.Valid(eventschema.AsyncAPI()) {
		t.Error("AsyncAPI must return a copy: changing one changed the document")
	}
}
