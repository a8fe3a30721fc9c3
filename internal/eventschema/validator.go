package eventschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// ErrUnknownType is returned (wrapped) for an event type that has no published
// data schema.
var ErrUnknownType = errors.New("eventschema: unknown event type")

// Validator checks documents against the embedded schemas. It is built once by
// New (or Default) and is safe for concurrent use.
type Validator struct {
	byName   map[string]*jsonschema.Schema // file name → schema
	data     map[string]*jsonschema.Schema // event type → its data schema
	entities *jsonschema.Schema            // common.v1.json#/$defs/entityKey
}

// New compiles every embedded schema. It reads nothing outside the embedded
// files: a reference to any other document is an error. Format keywords
// (date-time, uri) are asserted.
func New() (*Validator, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(jsonschema.SchemeURLLoader{}) // no file or network loads: all schemas are resources
	names := Names()
	for _, name := range names {
		raw, _ := Schema(name)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("eventschema: %s: %w", name, err)
		}
		if id, _ := doc.(map[string]any)["$id"].(string); id != BaseURI+name {
			return nil, fmt.Errorf("eventschema: %s: $id is %q, want %q", name, id, BaseURI+name)
		}
		if err := c.AddResource(BaseURI+name, doc); err != nil {
			return nil, fmt.Errorf("eventschema: %s: %w", name, err)
		}
	}
	v := &Validator{byName: map[string]*jsonschema.Schema{}, data: map[string]*jsonschema.Schema{}}
	for _, name := range names {
		s, err := c.Compile(BaseURI + name)
		if err != nil {
			return nil, fmt.Errorf("eventschema: compile %s: %w", name, err)
		}
		v.byName[name] = s
		if strings.HasPrefix(name, "backlot.") {
			v.data[strings.TrimSuffix(name, ".json")] = s
		}
	}
	s, err := c.Compile(BaseURI + CommonSchema + "#/$defs/entityKey")
	if err != nil {
		return nil, fmt.Errorf("eventschema: compile the entity key: %w", err)
	}
	v.entities = s
	for _, name := range []string{EnvelopeSchema, EntityStateSchema, HistoryHeadersSchema, StateHeadersSchema} {
		if v.byName[name] == nil {
			return nil, fmt.Errorf("eventschema: %s is not embedded", name)
		}
	}
	return v, nil
}

var defaultValidator = sync.OnceValues(New)

// Default returns a Validator shared by the process, compiled on first use. It
// panics if the embedded schemas do not compile, which the package's tests rule
// out.
func Default() *Validator {
	v, err := defaultValidator()
	if err != nil {
		panic(err)
	}
	return v
}

// Types returns the event types that have a data schema, sorted.
func (v *Validator) Types() []string {
	out := make([]string, 0, len(v.data))
	for _, n := range Names() {
		if t := strings.TrimSuffix(n, ".json"); v.data[t] != nil {
			out = append(out, t)
		}
	}
	return out
}

// Validate checks raw against the schema file called name (see Names).
func (v *Validator) Validate(name string, raw []byte) error {
	s := v.byName[name]
	if s == nil {
		return fmt.Errorf("eventschema: no schema called %q", name)
	}
	return v.check(s, name, name, raw)
}

// ValidateEnvelope checks a CloudEvent in structured mode, as event.Envelope
// marshals it and as the HTTP feed carries it, against envelope.v1.json, and its
// data against the schema of its type. A type without a data schema is an error
// wrapping ErrUnknownType: Backlot publishes a schema for every type it writes.
func (v *Validator) ValidateEnvelope(raw []byte) error {
	doc, err := decode(raw)
	if err != nil {
		return &ValidationError{What: "event", Schema: EnvelopeSchema, Problems: []Problem{{Message: err.Error()}}}
	}
	return v.envelope(doc)
}

// envelope validates a decoded envelope.
func (v *Validator) envelope(doc any) error {
	m, _ := doc.(map[string]any)
	what := "event"
	if id, ok := m["id"].(string); ok {
		what += " " + id
	}
	t, _ := m["type"].(string)
	if t != "" {
		what += " (" + t + ")"
	}
	if err := v.validate(v.byName[EnvelopeSchema], what, EnvelopeSchema, doc); err != nil {
		return err
	}
	if v.data[t] == nil {
		return fmt.Errorf("%s: %w %q: no %s in %s", what, ErrUnknownType, t, DataSchemaName(t), BaseURI)
	}
	return nil
}

// ValidateData checks the data of an event of eventType against the type's
// schema. A type without a schema is an error wrapping ErrUnknownType.
func (v *Validator) ValidateData(eventType string, raw []byte) error {
	s := v.data[eventType]
	if s == nil {
		return fmt.Errorf("%w %q: no %s in %s", ErrUnknownType, eventType, DataSchemaName(eventType), BaseURI)
	}
	return v.check(s, eventType+" data", DataSchemaName(eventType), raw)
}

// ValidateState checks the value of a state topic record, the entity as the
// catalog API returns it, against entity-state.v1.json. A tombstone (an empty
// or null value) is not a state and fails here; ValidateKafkaRecord accepts it.
func (v *Validator) ValidateState(raw []byte) error {
	return v.check(v.byName[EntityStateSchema], "entity state", EntityStateSchema, raw)
}

// check decodes raw and validates it against s.
func (v *Validator) check(s *jsonschema.Schema, what, name string, raw []byte) error {
	doc, err := decode(raw)
	if err != nil {
		return &ValidationError{What: what, Schema: name, Problems: []Problem{{Message: err.Error()}}}
	}
	return v.validate(s, what, name, doc)
}

// validate runs s on a decoded document and turns its failure into a
// ValidationError.
func (v *Validator) validate(s *jsonschema.Schema, what, name string, doc any) error {
	err := s.Validate(doc)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("%s: %s: %w", what, name, err)
	}
	return &ValidationError{What: what, Schema: name, Problems: problems(ve)}
}

// decode parses one JSON document as the validator expects it (numbers kept
// exact), rejecting empty input and trailing data.
func decode(raw []byte) (any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, errors.New("empty document, want JSON")
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var doc any
	if err := d.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if d.More() {
		return nil, errors.New("not JSON: data after the document")
	}
	if doc == nil {
		return nil, errors.New("null document, want a JSON object")
	}
	return doc, nil
}
