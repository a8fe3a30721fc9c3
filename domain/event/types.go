package event

// Type is a versioned event type name. Within a version only additive changes are
// made to a type's payload; an incompatible change gets a new version suffix.
type Type string

// The event types Backlot writes to its log.
const (
	// TypeLocationRegistered records a location added by a user or by configuration.
	TypeLocationRegistered Type = "backlot.location.registered.v1"
	// TypeLocationRemoved records a location removed; its entities are removed by
	// their own TypeEntityRemoved events written in the same append.
	TypeLocationRemoved Type = "backlot.location.removed.v1"
	// TypeEntityUpserted records an entity body as a location yielded it.
	TypeEntityUpserted Type = "backlot.entity.upserted.v1"
	// TypeEntityRemoved records an entity gone from the catalog.
	TypeEntityRemoved Type = "backlot.entity.removed.v1"
	// TypeProcessingErrorRecorded records the set of processing errors a location's
	// last refresh produced; it replaces the set recorded before.
	TypeProcessingErrorRecorded Type = "backlot.processing.error.recorded.v1"
	// TypeProcessingErrorCleared records that a location's refresh produced no errors.
	TypeProcessingErrorCleared Type = "backlot.processing.error.cleared.v1"
	// TypeFactsReported records the facts one source reported about an entity;
	// they replace what that source reported about it before.
	TypeFactsReported Type = "backlot.facts.reported.v1"
	// TypeFactSourceDeclared records the JSON Schema the facts of a source must
	// follow from then on; its subject is factsource:<name>.
	TypeFactSourceDeclared Type = "backlot.factsource.declared.v1"
	// TypeBadgeAwarded records that an entity reached a higher level of a policy
	// than before (or its first level).
	TypeBadgeAwarded Type = "backlot.badge.awarded.v1"
	// TypeBadgeRevoked records that an entity fell to a lower level of a policy,
	// or that the policy no longer rates it.
	TypeBadgeRevoked Type = "backlot.badge.revoked.v1"
	// TypeCheckChanged records that checks of a policy changed their verdict on
	// an entity while its level stayed the same (or that a policy rated an entity
	// for the first time without it reaching a level).
	TypeCheckChanged Type = "backlot.check.changed.v1"
)

// SchemaURI returns the data schema URI Backlot publishes for the event type.
func (t Type) SchemaURI() string {
	return "https://backlot.dev/schemas/events/" + string(t) + ".json"
}

// Known reports whether t is one of the types listed above.
func (t Type) Known() bool {
	switch t {
	case TypeLocationRegistered, TypeLocationRemoved, TypeEntityUpserted, TypeEntityRemoved,
		TypeProcessingErrorRecorded, TypeProcessingErrorCleared,
		TypeFactsReported, TypeFactSourceDeclared, TypeBadgeAwarded, TypeBadgeRevoked, TypeCheckChanged,
		TypeTaskStarted, TypeTaskFinished, TypeMigrationChanged, TypeMigrationTargetChanged,
		TypePermissionDenied:
		return true
	}
	return false
}

// IsBadge reports whether t is one of the badge types a policy evaluation
// writes: TypeBadgeAwarded, TypeBadgeRevoked or TypeCheckChanged.
func (t Type) IsBadge() bool {
	return t == TypeBadgeAwarded || t == TypeBadgeRevoked || t == TypeCheckChanged
}

// FactSourceSubject is the subject of a TypeFactSourceDeclared event.
func FactSourceSubject(source string) string { return "factsource:" + source }
