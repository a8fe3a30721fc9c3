// Package eventschema publishes the contract of Backlot's change stream: JSON
// Schemas (draft 2020-12) for the CloudEvents envelope, for every event type's
// data, for the compacted state topic's value, for the Kafka headers of both
// topics and for a page of the HTTP feed, and an AsyncAPI 3.0 document that
// describes the Kafka topics and the HTTP feed with them. Everything is embedded
// in the binary: Schema, Names and AsyncAPI return the published bytes, and a
// Validator checks events, states and Kafka records against them without any
// network access.
//
// # Schema identifiers
//
// Every schema's $id is BaseURI followed by its file name
// (https://backlot.dev/schemas/events/envelope.v1.json). The data schema of an
// event type is named after the type, and an event's dataschema attribute is
// that schema's $id: https://backlot.dev/schemas/events/<type>.json, as
// event.Type.SchemaURI returns it. Schemas refer to each other by relative
// file names, so a copy of the folder served anywhere (the API serves it under
// /api/events/schemas/) resolves the same way as the $id namespace.
//
// # Evolution
//
// EVOLUTION.md, beside this file, holds the rules: versioned type names, only
// additive and optional changes within a version, a new version as a new type,
// schema and topic, and consumers that ignore what they do not know.
package eventschema
