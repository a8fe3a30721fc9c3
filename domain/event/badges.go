package event

import (
	"encoding/json"
	"time"
)

// FactsReported is the data of TypeFactsReported: what one source (ci,
// security, repo, …) observed about one entity. The facts replace the ones the
// source reported about the entity before; an empty object clears them.
type FactsReported struct {
	// Entity is the canonical ref of the entity, equal to the envelope's subject.
	Entity string `json:"entity"`
	// Source names the reporting system; facts are read as facts.<source>.<name>.
	Source string `json:"source"`
	// Facts is a JSON object of the source's facts by name.
	Facts json.RawMessage `json:"facts"`
	// ObservedAt is when the source observed the facts (defaults to the event time).
	ObservedAt time.Time `json:"observedAt"`
}

// FactSourceDeclared is the data of TypeFactSourceDeclared.
type FactSourceDeclared struct {
	// Source is the name of the source.
	Source string `json:"source"`
	// Schema is a JSON Schema (draft 2020-12 unless it says otherwise) every
	// facts object of the source must follow; null lifts the constraint.
	Schema json.RawMessage `json:"schema"`
}

// CheckOutcome is one check's verdict in a badge event.
type CheckOutcome struct {
	// ID is the check's id in its policy.
	ID string `json:"id"`
	// Level is the level the check belongs to.
	Level string `json:"level"`
	// Passed is the verdict.
	Passed bool `json:"passed"`
	// Message says what the check asks for.
	Message string `json:"message,omitempty"`
	// Error is set when the check could not be evaluated (a rule that does not
	// compile, a missing field, the cost limit); such a check fails.
	Error string `json:"error,omitempty"`
}

// BadgeChanged is the data of TypeBadgeAwarded, TypeBadgeRevoked and
// TypeCheckChanged: the whole new verdict of one policy on one entity, so a
// reader needs no earlier event to know where the entity stands.
type BadgeChanged struct {
	// Entity is the canonical ref of the rated entity, equal to the subject.
	Entity string `json:"entity"`
	// EntityHash is the hash of the entity body that was rated; empty when the
	// entity is gone.
	EntityHash string `json:"entityHash,omitempty"`
	// Owner is the entity's spec.owner as a ref, for roll-ups per owner.
	Owner string `json:"owner,omitempty"`
	// Policy is the policy's id (its metadata.name).
	Policy string `json:"policy"`
	// Applies says whether the policy rates the entity; false when its selector
	// no longer chooses the entity, or the entity or the policy is gone.
	Applies bool `json:"applies"`
	// Level is the highest level reached, "" for none.
	Level string `json:"level"`
	// PreviousLevel is the level before this change, "" for none.
	PreviousLevel string `json:"previousLevel"`
	// LevelRank is Level's index among the policy's levels plus one, 0 for none.
	LevelRank int `json:"levelRank"`
	// Checks is every check's verdict, in the policy's order.
	Checks []CheckOutcome `json:"checks"`
	// Changed lists the ids of the checks whose verdict changed.
	Changed []string `json:"changed"`
	// Campaigns lists the ids of the policy's campaigns whose selector chose
	// the entity.
	Campaigns []string `json:"campaigns,omitempty"`
}
