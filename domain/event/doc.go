// Package event defines Backlot's event envelope (CloudEvents 1.0 with the actor,
// commit and correlation extensions), the versioned event types, their payloads,
// and the Log port that every event-log adapter implements.
//
// The event log is the source of truth: read models are folds over it. Every event's
// subject is the entity reference it concerns, so one entity's events keep their order
// on any log, and every event that describes an entity body carries that body's hash.
//
// JSONScanner is the scanner base of Backlot's fast JSON readers (the catalog and
// badge folds, the audit, the canonical form that Digest hashes): each reads the plain
// JSON Backlot writes itself and leaves anything else to encoding/json.
package event
