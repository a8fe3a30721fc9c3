package catalogstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
)

// This file holds the pure pieces every adapter of Store shares beside the fold
// (fold.go), so all store the same bodies, search rows and relations and render
// the same pages, relations and status items.

// EntityRows is what the read model stores for one version of an entity.
type EntityRows struct {
	// Key is the lower-case ref; Ref the display ref.
	Key, Ref string
	// Kind, Namespace and Name are the ref's parts in lower case.
	Kind, Namespace, Name string
	// Body is the stored JSON: the entity with metadata.uid and metadata.etag,
	// without relations and status.
	Body []byte
	// Relations are the relations the entity declares, each once, from the
	// entity, in the entity's order. The reverse of each (from its target back
	// to the entity) is not stored: readers derive it from the target's side.
	Relations []RelationRow
	// Search are the entity's search rows in flattening order, each key and
	// value once (the first row of each wins).
	Search []SearchRow
}

// RelationRow is one relation an entity declares: from the entity, of Type,
// to Target, whose reverse (from Target back to the entity) is of type Reverse.
type RelationRow struct {
	// Target is the lower-case key; TargetRef the target's display ref.
	Type, Reverse, Target, TargetRef string
}

// SearchRow is one row of the search table.
type SearchRow struct {
	// Key is the lower-case dotted key; Value the lower-case value, empty when the
	// value is too long to be kept or null.
	Key, Value string
	// Original is the value as written when it differs from Value, else nil.
	Original *string
}

// StoredBody is the body the read model stores for an entity version: the
// entity without relations and status, with metadata.uid and metadata.etag.
func StoredBody(ent *catalog.Entity, uid, hash string) map[string]any {
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
	return stored
}

// NewEntityRows computes the stored rows of an entity version, as every
// adapter writes them.
func NewEntityRows(ent *catalog.Entity, uid, hash string) (EntityRows, error) {
	stored := StoredBody(ent, uid, hash)
	raw, err := catalog.EncodeJSON(stored)
	if err != nil {
		return EntityRows{}, err
	}
	ref := ent.Ref()
	out := EntityRows{
		Key: ref.Key(), Ref: ref.String(),
		Kind: strings.ToLower(ref.Kind), Namespace: strings.ToLower(ref.Namespace), Name: strings.ToLower(ref.Name),
		Body: raw,
	}
	rels := ent.Declared()
	out.Relations = make([]RelationRow, 0, len(rels))
	for _, r := range rels {
		out.Relations = append(out.Relations, RelationRow{Type: r.Type, Reverse: r.Reverse, Target: r.Target.Key(), TargetRef: r.Target.String()})
	}
	out.Search = searchRows(stored)
	return out, nil
}

// PageRow is one row an adapter's Query read: the entity and its keyset.
type PageRow struct {
	View   EntityView
	Keyset Keyset
}

// FinishPage completes page from rows, which the adapter read in the page's
// direction (from q.Before backward when it is set) with one row more than
// q.Limit, when set, to learn whether more follow. It drops that extra row,
// puts the rows of a backward page in order, sets HasNext and HasPrev, lets
// decorate add relations and status items to the views (those q.Decorate
// picks, when set), and sets Items, First and Last. It fails with decorate's
// error.
func FinishPage(ctx context.Context, page Page, q PageQuery, rows []PageRow, decorate func(context.Context, []*EntityView) error) (Page, error) {
	more := q.Limit > 0 && len(rows) > q.Limit
	if more {
		rows = rows[:q.Limit]
	}
	if q.Before != nil {
		slices.Reverse(rows)
		page.HasPrev, page.HasNext = more, true
	} else {
		page.HasNext = more
		page.HasPrev = q.After != nil || q.Offset > 0
	}
	views := make([]*EntityView, 0, len(rows))
	for i := range rows {
		if q.Decorate == nil || q.Decorate(&rows[i].View) {
			views = append(views, &rows[i].View)
		}
	}
	if err := decorate(ctx, views); err != nil {
		return Page{}, err
	}
	page.Items = make([]EntityView, len(rows))
	for i := range rows {
		page.Items[i] = rows[i].View
	}
	if len(rows) > 0 {
		f, l := rows[0].Keyset, rows[len(rows)-1].Keyset
		page.First, page.Last = &f, &l
	}
	return page, nil
}

// Rows is the part of a result set ScanRelations reads; database/sql's and
// pgx's rows both have it.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// ScanRelations adds each row of rows, a relation (source, type, target_ref,
// with the target's key before target_ref when withTarget), to the view of
// its source in byKey; a source not there is skipped. It leaves closing rows
// to the caller.
func ScanRelations(rows Rows, byKey map[string]*EntityView, withTarget bool) error {
	for rows.Next() {
		var src, target string
		var r Relation
		var err error
		if withTarget {
			err = rows.Scan(&src, &r.Type, &target, &r.TargetRef)
		} else {
			err = rows.Scan(&src, &r.Type, &r.TargetRef)
		}
		if err != nil {
			return err
		}
		if v := byKey[src]; v != nil {
			v.Relations = append(v.Relations, r)
		}
	}
	return rows.Err()
}

// IndexViews maps the keys of views to the views, skipping nil ones; of
// views with the same key the last wins. keys lists each key once, in the
// order of its first view. Adapters use it to decorate a page's views.
func IndexViews(views []*EntityView) (byKey map[string]*EntityView, keys []string) {
	byKey = make(map[string]*EntityView, len(views))
	keys = make([]string, 0, len(views))
	for _, v := range views {
		if v == nil {
			continue
		}
		if _, dup := byKey[v.Key]; !dup {
			keys = append(keys, v.Key)
		}
		byKey[v.Key] = v
	}
	return byKey, keys
}

// CacheKey identifies a statement of kind and its arguments in a result
// cache: equal keys mean the same statement with the same arguments.
func CacheKey(kind, stmt string, args []any) string {
	var b strings.Builder
	b.WriteString(kind)
	b.WriteByte(0)
	b.WriteString(stmt)
	for _, a := range args {
		fmt.Fprintf(&b, "\x00%v", a)
	}
	return b.String()
}

// Payload is an event's data decoded by its type. At most one of Upsert,
// Remove, Register, Unregister and Errors is set, none for a type the read
// models do not fold.
type Payload struct {
	// Upsert is an EntityUpserted; Entity its entity, loaded from its body.
	Upsert *event.EntityUpserted
	Entity *catalog.Entity
	// Remove is an EntityRemoved.
	Remove *event.EntityRemoved
	// Register is a LocationRegistered, Unregister a LocationRemoved.
	Register   *event.LocationRegistered
	Unregister *event.LocationRemoved
	// Errors is a ProcessingErrorRecorded, whose Errors is never nil, or a
	// ProcessingErrorCleared as a record with Errors nil.
	Errors *event.ProcessingErrorRecorded
}

// DecodePayload decodes ev's data by the newest version of its type: an
// event of an older version is upcast (event.Envelope.Decode) and read as the
// newest, so a new version needs only its upcaster and the case here. It fails
// when the data, or an upserted entity's body, does not decode.
func DecodePayload(ev *event.Envelope) (Payload, error) {
	var p Payload
	switch event.Type(ev.Type).Latest() {
	case event.TypeEntityUpserted:
		if event.Type(ev.Type) == event.TypeEntityUpserted {
			// The newest version, read without reflection when it can be.
			if d, ok := decodeUpsertData(ev.Data); ok {
				if body, err := catalog.DecodeJSONObject(d.Entity); err == nil {
					if ent, err := catalog.LoadEntity(body); err == nil {
						p.Upsert, p.Entity = &d, ent
						return p, nil
					}
				}
				// The general path below fails with its own words.
			}
		}
		var d event.EntityUpserted
		if err := ev.Decode(&d); err != nil {
			return p, err
		}
		body, err := catalog.DecodeJSONObject(d.Entity)
		if err != nil {
			return p, fmt.Errorf("entity body: %w", err)
		}
		ent, err := catalog.LoadEntity(body)
		if err != nil {
			return p, err
		}
		p.Upsert, p.Entity = &d, ent
	case event.TypeEntityRemoved:
		var d event.EntityRemoved
		if err := ev.Decode(&d); err != nil {
			return p, err
		}
		p.Remove = &d
	case event.TypeLocationRegistered:
		var d event.LocationRegistered
		if err := ev.Decode(&d); err != nil {
			return p, err
		}
		p.Register = &d
	case event.TypeLocationRemoved:
		var d event.LocationRemoved
		if err := ev.Decode(&d); err != nil {
			return p, err
		}
		p.Unregister = &d
	case event.TypeProcessingErrorRecorded:
		var d event.ProcessingErrorRecorded
		if err := ev.Decode(&d); err != nil {
			return p, err
		}
		if d.Errors == nil {
			d.Errors = []event.ProcessingError{}
		}
		p.Errors = &d
	case event.TypeProcessingErrorCleared:
		var d event.ProcessingErrorCleared
		if err := ev.Decode(&d); err != nil {
			return p, err
		}
		p.Errors = &event.ProcessingErrorRecorded{LocationID: d.LocationID}
	}
	return p, nil
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
	// KeyOrder is the order field of lists in the order of the entities'
	// keys (kind:namespace/name in lower case), which the key's unique index
	// holds: a reader that writes something of each entity into other
	// tables keyed by the entity's key (a full badge evaluation) reads the
	// catalog in this order, so its writes are appends rather than inserts
	// spread over those tables' trees.
	KeyOrder = keyOrder
	// MissingSortValue sorts entities without the order field after every real
	// value in ascending order.
	MissingSortValue = missingSort
)
