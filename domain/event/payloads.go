package event

import "encoding/json"

// LocationRegistered is the data of TypeLocationRegistered.
type LocationRegistered struct {
	// ID is the location's stable identifier (a UUID).
	ID string `json:"id"`
	// Type is file or url.
	Type string `json:"type"`
	// Target is the file path, glob or URL the location reads.
	Target string `json:"target"`
	// EntityRef is the ref of the generated Location entity that carries the
	// location's processing errors (location:default/generated-<hash>).
	EntityRef string `json:"entityRef"`
}

// LocationRemoved is the data of TypeLocationRemoved.
type LocationRemoved struct {
	// ID is the removed location's identifier.
	ID string `json:"id"`
	// Type and Target repeat the location's registration for readers of the log.
	Type   string `json:"type"`
	Target string `json:"target"`
}

// Commit describes the git commit an ingested file was read at.
type Commit struct {
	// SHA is the full commit hash.
	SHA string `json:"sha"`
	// Author is the commit author's name.
	Author string `json:"author,omitempty"`
	// Email is the commit author's e-mail address.
	Email string `json:"email,omitempty"`
	// Time is the author time in RFC 3339.
	Time string `json:"time,omitempty"`
}

// EntityUpserted is the data of TypeEntityUpserted.
type EntityUpserted struct {
	// Ref is the canonical entity ref, equal to the envelope's subject.
	Ref string `json:"ref"`
	// UID is the entity's identifier, kept for as long as the entity exists.
	UID string `json:"uid"`
	// Hash is the SHA-256 of the canonical JSON of Entity.
	Hash string `json:"hash"`
	// Entity is the entity body as its location yielded it, placeholders resolved,
	// without uid, etag, relations or status.
	Entity json.RawMessage `json:"entity"`
	// LocationID is the registered location that owns the entity.
	LocationID string `json:"locationId"`
	// ManagedBy is the file or URL the entity was read from (type:target), as in
	// the backstage.io/managed-by-location annotation.
	ManagedBy string `json:"managedBy"`
	// OriginLocation is the registered location's type:target, as in the
	// backstage.io/managed-by-origin-location annotation.
	OriginLocation string `json:"originLocation"`
	// Commit is set when the file came from git.
	Commit *Commit `json:"commit,omitempty"`
}

// EntityRemoved is the data of TypeEntityRemoved.
type EntityRemoved struct {
	// Ref is the canonical entity ref.
	Ref string `json:"ref"`
	// UID is the removed entity's identifier.
	UID string `json:"uid"`
	// LocationID is the location that owned the entity, if any.
	LocationID string `json:"locationId,omitempty"`
	// Reason says why: vanished from its location, location removed, or deleted
	// through the API.
	Reason string `json:"reason"`
}

// ProcessingError is one problem found while reading a location.
type ProcessingError struct {
	// File is the file or URL the problem was found in.
	File string `json:"file"`
	// Document is the zero-based index of the YAML document in File, or -1 when the
	// problem concerns the whole file.
	Document int `json:"document"`
	// Entity is the ref of the entity the document describes, when known.
	Entity string `json:"entity,omitempty"`
	// Field is the path of the offending field (metadata.name), when known.
	Field string `json:"field,omitempty"`
	// Name classifies the error: InputError, NotAllowedError, ConflictError, NotFoundError.
	Name string `json:"name"`
	// Message says what is wrong.
	Message string `json:"message"`
}

// ProcessingErrorRecorded is the data of TypeProcessingErrorRecorded. It replaces the
// location's earlier set of errors.
type ProcessingErrorRecorded struct {
	// LocationID is the location whose refresh produced the errors.
	LocationID string `json:"locationId"`
	// Errors lists every problem of the refresh, in file and document order.
	Errors []ProcessingError `json:"errors"`
}

// ProcessingErrorCleared is the data of TypeProcessingErrorCleared.
type ProcessingErrorCleared struct {
	// LocationID is the location whose errors are gone.
	LocationID string `json:"locationId"`
}
