package eventschema

import (
	"embed"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// BaseURI is the prefix of every schema's $id; the file name follows it.
const BaseURI = "https://backlot.dev/schemas/events/"

// The file names of the schemas that are not an event type's data.
const (
	// EnvelopeSchema is the CloudEvents envelope in structured mode (JSON).
	EnvelopeSchema = "envelope.v1.json"
	// EntityStateSchema is the value of a state topic record.
	EntityStateSchema = "entity-state.v1.json"
	// CommonSchema holds the definitions the others share ($defs).
	CommonSchema = "common.v1.json"
	// HistoryHeadersSchema is the set of Kafka headers of a history topic record.
	HistoryHeadersSchema = "kafka-history-headers.v1.json"
	// StateHeadersSchema is the set of Kafka headers of a state topic record.
	StateHeadersSchema = "kafka-state-headers.v1.json"
	// EventsPageSchema is the answer of the HTTP feed's long poll, GET /api/events.
	EventsPageSchema = "events-page.v1.json"
)

//go:embed schemas/*.json
var schemaFiles embed.FS

//go:embed asyncapi.json
var asyncAPI []byte

// Names returns the file names of every published schema, sorted.
func Names() []string {
	entries, err := fs.ReadDir(schemaFiles, "schemas")
	if err != nil {
		panic("eventschema: embedded schemas: " + err.Error()) // the embed directive guarantees the folder
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// Schema returns the schema file called name (envelope.v1.json; the .json suffix
// may be left out, so an event type names its data schema) and whether there is
// one. The bytes are a copy the caller may keep.
func Schema(name string) ([]byte, bool) {
	if !strings.HasSuffix(name, ".json") {
		name += ".json"
	}
	if name != path.Base(name) {
		return nil, false
	}
	b, err := schemaFiles.ReadFile("schemas/" + name)
	if err != nil {
		return nil, false
	}
	return b, true
}

// DataSchemaName returns the file name of an event type's data schema; the
// schema exists only for the types Names lists.
func DataSchemaName(eventType string) string { return eventType + ".json" }

// AsyncAPI returns the AsyncAPI 3.0 document that describes the Kafka topics and
// the HTTP feed. Its payload references are relative file names under schemas/
// (schemas/envelope.v1.json), so a server that publishes the document at
// /api/events/asyncapi.json serves Schema(name) at /api/events/schemas/<name>.
// The bytes are a copy the caller may keep.
func AsyncAPI() []byte { return slices.Clone(asyncAPI) }
