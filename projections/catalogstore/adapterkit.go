package catalogstore

import (
	"encoding/json"
	"strings"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
)

// This file exports the pieces of the SQLite fold that other adapters of Store
// need, so every adapter stores the same bodies, search rows and relations and
// renders the same relations and status items.

// EntityRows is what the read model stores for one version of an entity.
type EntityRows struct {
	// Key is the lower-case ref; Ref the display ref.
	Key, Ref string
	// Kind, Namespace and Name are the ref's parts in lower case.
	Kind, Namespace, Name string
	// Body is the stored JSON: the entity with metadata.uid and metadata.etag,
	// without relations and status.
	Body []byte
	// Relations are the relations the entity declares, both directions, in the
	// entity's order; duplicates are possible (the first of each wins).
	Relations []RelationRow
	// Search are the entity's search rows in flattening order; the first row of
	// each key and value wins.
	Search []SearchRow
}

// RelationRow is one row of the relations table.
type RelationRow struct {
	// Source and Target are lower-case keys; TargetRef is the target's display ref.
	Source, Type, Target, TargetRef string
}

// SearchRow is one row of the search table.
type SearchRow struct {
	// Key is the lower-case dotted key; Value the lower-case value, empty when the
	// value is too long to be kept or null.
	Key, Value string
	// Original is the value as written when it differs from Value, else nil.
	Original *string
}

// NewEntityRows computes the stored rows of an entity version, exactly as the
// SQLite store writes them.
func NewEntityRows(ent *catalog.Entity, uid, hash string) (EntityRows, error) {
	stored := make(map[string]any, len(ent.Body()))
	for k, v := range ent.Body() {
		if k == "relations" || k == "status" {
			continue
		}
		stored[k] = v
	}
	md, _ := stored["metadata"].(map[string]any)
	nmd := make(map[string]any, len(md)+2)
	for k, v := range md {
		nmd[k] = v
	}
	nmd["uid"] = uid
	nmd["etag"] = etag(hash, uid)
	stored["metadata"] = nmd
	raw, err := json.Marshal(stored)
	if err != nil {
		return EntityRows{}, err
	}
	ref := ent.Ref()
	out := EntityRows{
		Key: ref.Key(), Ref: ref.String(),
		Kind: strings.ToLower(ref.Kind), Namespace: strings.ToLower(ref.Namespace), Name: strings.ToLower(ref.Name),
		Body: raw,
	}
	for _, r := range ent.Relations() {
		out.Relations = append(out.Relations, RelationRow{Source: r.Source.Key(), Type: r.Type, Target: r.Target.Key(), TargetRef: r.Target.String()})
	}
	for _, row := range searchRows(stored) {
		sr := SearchRow{Key: row.key}
		if row.value != nil {
			sr.Value = *row.value
		}
		if row.original != nil && *row.original != sr.Value {
			o := *row.original
			sr.Original = &o
		}
		out.Search = append(out.Search, sr)
	}
	return out, nil
}

// LocationEntity returns the Location entity the read model generates for a
// registered location, and its managed-by value (type:target).
func LocationEntity(d event.LocationRegistered) (*catalog.Entity, string, error) {
	ref := catalog.GeneratedLocationRef(d.Type, d.Target)
	if d.EntityRef != "" {
		if r, err := catalog.ParseRef(d.EntityRef, catalog.RefDefaults{Kind: "Location"}); err == nil {
			ref = r
		}
	}
	tt := d.Type + ":" + d.Target
	body := map[string]any{
		"apiVersion": "backstage.io/v1alpha1",
		"kind":       "Location",
		"metadata": map[string]any{
			"name":      ref.Name,
			"namespace": ref.Namespace,
			"annotations": map[string]any{
				catalog.AnnotationManagedByLocation:       tt,
				catalog.AnnotationManagedByOriginLocation: tt,
			},
		},
		"spec": map[string]any{"type": d.Type, "target": d.Target},
	}
	ent, err := catalog.LoadEntity(body)
	if err != nil {
		return nil, "", err
	}
	return ent, tt, nil
}

// ErrorEntityKey returns the key of the entity a processing error concerns, or
// "" when it names none.
func ErrorEntityKey(pe event.ProcessingError) string {
	if pe.Entity == "" {
		return ""
	}
	if r, err := catalog.ParseRef(pe.Entity, catalog.RefDefaults{Kind: "Component"}); err == nil {
		return r.Key()
	}
	return ""
}

// StatusItemOf renders a processing error as a status item of the entities it concerns.
func StatusItemOf(pe event.ProcessingError) StatusItem { return statusItem(pe) }

// NormalizeRelations sorts a view's relations by type and target and drops
// duplicates that differ only in the target's case, as every adapter must.
func NormalizeRelations(v *EntityView) { dedupeRelations(v) }

// Internal names that adapters render the same way.
const (
	// CreationOrder is the order field of lists that name none: entities in the
	// order they were created.
	CreationOrder = creationOrder
	// MissingSortValue sorts entities without the order field after every real
	// value in ascending order.
	MissingSortValue = missingSort
)
