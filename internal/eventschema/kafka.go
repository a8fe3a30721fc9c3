package eventschema

import (
	"fmt"
	"strings"
)

// The topic names after the configured prefix (DefaultTopicPrefix in production:
// backlot.catalog.events.v1 and backlot.catalog.entities.v1).
const (
	// HistoryTopic carries every event in CloudEvents binary mode, kept forever.
	HistoryTopic = "catalog.events.v1"
	// StateTopic is compacted: the current entity per ref, or a tombstone.
	StateTopic = "catalog.entities.v1"
	// DefaultTopicPrefix is the prefix of the topic names unless configured.
	DefaultTopicPrefix = "backlot."
)

// The Kafka headers ValidateKafkaRecord reads besides the ce_* ones.
const (
	// HeaderContentType is the content-type header: the data content type.
	HeaderContentType = "content-type"
	// headerCE prefixes a CloudEvents attribute in binary mode.
	headerCE = "ce_"
)

// ValidateKafkaRecord checks one record read from Kafka against the published
// schemas; the topic's name (any prefix) says which ones.
//
// On the history topic the headers must match kafka-history-headers.v1.json, the
// key must equal ce_subject, and the envelope rebuilt from the binary-mode
// headers (ce_<attribute> → attribute, content-type → datacontenttype, the value
// as data) must pass ValidateEnvelope, data included.
//
// On the state topic the headers must match kafka-state-headers.v1.json, the key
// must be a canonical entity ref, and the value must be empty (a tombstone) or
// pass ValidateState and describe the entity the key names.
//
// Any other topic is an error.
func (v *Validator) ValidateKafkaRecord(topic string, headers map[string]string, key, value []byte) error {
	switch {
	case strings.HasSuffix(topic, HistoryTopic):
		return v.historyRecord(topic, headers, key, value)
	case strings.HasSuffix(topic, StateTopic):
		return v.stateRecord(topic, headers, key, value)
	}
	return fmt.Errorf("eventschema: topic %s is neither the history topic (*%s) nor the state topic (*%s)", topic, HistoryTopic, StateTopic)
}

// historyRecord validates a record of the history topic.
func (v *Validator) historyRecord(topic string, headers map[string]string, key, value []byte) error {
	what := fmt.Sprintf("topic %s record %q", topic, key)
	hdoc := make(map[string]any, len(headers))
	for k, x := range headers {
		hdoc[k] = x
	}
	if err := v.validate(v.byName[HistoryHeadersSchema], what+" headers", HistoryHeadersSchema, hdoc); err != nil {
		return err
	}
	if string(key) != headers[headerCE+"subject"] {
		return fmt.Errorf("%s: the key is not the event's subject %q (header %ssubject)", what, headers[headerCE+"subject"], headerCE)
	}
	data, err := decode(value)
	if err != nil {
		return &ValidationError{What: what + " value", Schema: EnvelopeSchema, Problems: []Problem{{Path: "/data", Message: err.Error()}}}
	}
	env := map[string]any{"data": data}
	for k, x := range headers {
		switch {
		case k == HeaderContentType:
			env["datacontenttype"] = x
		case strings.HasPrefix(k, headerCE):
			env[strings.TrimPrefix(k, headerCE)] = x
		}
	}
	if err := v.envelope(env); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// stateRecord validates a record of the state topic.
func (v *Validator) stateRecord(topic string, headers map[string]string, key, value []byte) error {
	what := fmt.Sprintf("topic %s record %q", topic, key)
	hdoc := make(map[string]any, len(headers))
	for k, x := range headers {
		hdoc[k] = x
	}
	if err := v.validate(v.byName[StateHeadersSchema], what+" headers", StateHeadersSchema, hdoc); err != nil {
		return err
	}
	if err := v.entities.Validate(string(key)); err != nil {
		return fmt.Errorf("%s: the key is not a canonical entity ref (kind:namespace/name in lower case)", what)
	}
	if len(value) == 0 || string(value) == "null" {
		return nil // a tombstone: the entity is gone
	}
	doc, err := decode(value)
	if err != nil {
		return &ValidationError{What: what + " value", Schema: EntityStateSchema, Problems: []Problem{{Message: err.Error()}}}
	}
	if err := v.validate(v.byName[EntityStateSchema], what+" value", EntityStateSchema, doc); err != nil {
		return err
	}
	if ref := stateRef(doc); ref != string(key) {
		return fmt.Errorf("%s: the value describes %s, not the entity the key names", what, ref)
	}
	return nil
}

// stateRef is the canonical ref of a validated entity state.
func stateRef(doc any) string {
	m := doc.(map[string]any)
	md := m["metadata"].(map[string]any)
	return strings.ToLower(m["kind"].(string) + ":" + md["namespace"].(string) + "/" + md["name"].(string))
}
