package catalog

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Well-known annotations Backlot sets on ingested entities, as Backstage does.
const (
	AnnotationManagedByLocation       = "backstage.io/managed-by-location"
	AnnotationManagedByOriginLocation = "backstage.io/managed-by-origin-location"
)

// Relation is a directed, typed edge between two entities.
type Relation struct {
	Source Ref
	Type   string
	Target Ref
}

// Entity is a validated catalog entity: its descriptor body with metadata.namespace
// filled in, its ref, and the relations its spec declares in both directions.
// An Entity is immutable once made; Body returns a value callers must not modify.
type Entity struct {
	body     map[string]any
	ref      Ref
	declared []DeclaredRelation
	// relations is made from declared when first asked for (Relations): the
	// folds of read models only need declared.
	relsOnce  sync.Once
	relations []Relation
}

// DeclaredRelation is one relation an entity's spec declares, from the entity
// to Target, with the type of the reverse relation (from Target back to the
// entity): the pair a read model can store once and read both ways.
type DeclaredRelation struct {
	Type, Reverse string
	Target        Ref
}

// NewEntity validates body against Backstage's rules for its kind, accepting
// the built-in kinds only (as Kinds.NewEntity of the nil *Kinds), and returns
// the entity. The error, when not nil, is a *ValidationError that lists every
// offending field and names the entity when its kind and name are readable.
func NewEntity(body map[string]any) (*Entity, error) {
	return (*Kinds)(nil).NewEntity(body)
}

// NewEntity validates body against Backstage's rules for its kind, accepting
// the kinds of the set, and returns the entity. The error, when not nil, is a
// *ValidationError that lists every offending field and names the entity
// when its kind and name are readable.
func (k *Kinds) NewEntity(body map[string]any) (*Entity, error) {
	v := &validator{}
	v.validateEnvelope(body)
	ref := refOf(body)
	refStr := ""
	if !ref.IsZero() {
		refStr = ref.String()
	}
	if len(v.errs) > 0 {
		return nil, &ValidationError{Entity: refStr, Fields: v.errs}
	}
	kind, ok := k.lookup(ref.Kind, body)
	if !ok {
		return nil, &ValidationError{Entity: refStr, Fields: []FieldError{{Field: "kind", Message: k.unknownKindMessage(ref.Kind)}}}
	}
	if ref.Kind != kind.Kind {
		return nil, &ValidationError{Entity: refStr, Fields: []FieldError{{Field: "kind",
			Message: fmt.Sprintf("%q is not a kind; kinds are case-sensitive, did you mean %s?", ref.Kind, kind.Kind)}}}
	}
	apiVersion := body["apiVersion"].(string)
	if !kind.acceptsVersion(apiVersion) {
		return nil, &ValidationError{Entity: refStr, Fields: []FieldError{{Field: "apiVersion",
			Message: fmt.Sprintf("%q is not a version of kind %s; expected one of %s", apiVersion, kind.Kind, strings.Join(kind.APIVersions, ", "))}}}
	}
	v.validateSpec(kind, body)
	if len(v.errs) > 0 {
		return nil, &ValidationError{Entity: refStr, Fields: v.errs}
	}
	declared, errs := declaredRelations(kind, ref, body)
	if len(errs) > 0 {
		return nil, &ValidationError{Entity: refStr, Fields: errs}
	}
	normalized := withNamespace(body, ref.Namespace)
	return &Entity{body: normalized, ref: ref, declared: declared}, nil
}

// LoadEntity rebuilds an entity from a body Backlot stored or logged earlier,
// after NewEntity accepted it. It does not validate again; it only recomputes the
// ref and the relations. It fails if the body lacks kind or name.
func LoadEntity(body map[string]any) (*Entity, error) {
	ref := refOf(body)
	if ref.IsZero() || ref.Kind == "" || ref.Name == "" {
		return nil, fmt.Errorf("stored entity has no kind or name")
	}
	var declared []DeclaredRelation
	if kind, ok := LookupKind(ref.Kind); ok {
		declared, _ = declaredRelations(kind, ref, body)
	}
	return &Entity{body: withNamespace(body, ref.Namespace), ref: ref, declared: declared}, nil
}

// RefFromBody reads the ref of a descriptor body that may not be valid: kind,
// metadata.namespace (default when absent) and metadata.name when they are
// strings. ok is false when kind or name is missing.
func RefFromBody(body map[string]any) (ref Ref, ok bool) {
	r := refOf(body)
	return r, !r.IsZero()
}

// refOf is RefFromBody returning the zero Ref when unreadable.
func refOf(body map[string]any) Ref {
	kind, _ := body["kind"].(string)
	md, _ := body["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	ns, _ := md["namespace"].(string)
	if ns == "" {
		ns = DefaultNamespace
	}
	if kind == "" || name == "" {
		return Ref{}
	}
	return Ref{Kind: kind, Namespace: ns, Name: name}
}

func withNamespace(body map[string]any, ns string) map[string]any {
	md, _ := body["metadata"].(map[string]any)
	if cur, _ := md["namespace"].(string); cur == ns {
		return body
	}
	return withMetadata(body, func(nmd map[string]any) { nmd["namespace"] = ns })
}

// withMetadata returns a shallow copy of body whose metadata is a copy changed
// by edit; body itself is not changed.
func withMetadata(body map[string]any, edit func(md map[string]any)) map[string]any {
	out := make(map[string]any, len(body))
	for k, v := range body {
		out[k] = v
	}
	md, _ := body["metadata"].(map[string]any)
	nmd := make(map[string]any, len(md)+1)
	for k, v := range md {
		nmd[k] = v
	}
	edit(nmd)
	out["metadata"] = nmd
	return out
}

// declaredRelations computes the relations the spec declares, each once, in
// the spec's order (the first of each target, by key, kept).
func declaredRelations(kind *KindSpec, self Ref, body map[string]any) ([]DeclaredRelation, []FieldError) {
	spec, _ := body["spec"].(map[string]any)
	if spec == nil {
		return nil, nil
	}
	// The targets are counted first, so each slice is made once at its size
	// instead of growing: these were a tenth of what an ingestion allocated.
	n := 0
	for _, f := range kind.Fields {
		if f.Relation == nil {
			continue
		}
		switch val := spec[f.Name].(type) {
		case string:
			n++
		case []any:
			n += len(val)
		}
	}
	var declared []DeclaredRelation
	var declaredKeys []string // the keys of declared's targets
	if n > 0 {
		declared, declaredKeys = make([]DeclaredRelation, 0, n), make([]string, 0, n)
	}
	var errs []FieldError
	for _, f := range kind.Fields {
		if f.Relation == nil {
			continue
		}
		// add adds the relation to t, item i of the field's list (-1: the field).
		add := func(t string, i int) {
			target, err := ParseRef(t, RefDefaults{Kind: f.Relation.DefaultKind, Namespace: self.Namespace})
			if err != nil {
				field := "spec." + f.Name
				if i >= 0 {
					field = fmt.Sprintf("spec.%s[%d]", f.Name, i)
				}
				errs = append(errs, FieldError{Field: field, Message: err.Error()})
				return
			}
			targetKey := target.Key()
			for j, o := range declared {
				if o.Type == f.Relation.Type && o.Reverse == f.Relation.Reverse && declaredKeys[j] == targetKey {
					return
				}
			}
			declared = append(declared, DeclaredRelation{Type: f.Relation.Type, Reverse: f.Relation.Reverse, Target: target})
			declaredKeys = append(declaredKeys, targetKey)
		}
		switch val := spec[f.Name].(type) {
		case string:
			add(val, -1)
		case []any:
			for i, item := range val {
				if s, ok := item.(string); ok {
					add(s, i)
				}
			}
		}
	}
	return declared, errs
}

// relationsOf returns the relations of the declared ones of self in both
// directions, de-duplicated and sorted by source key, type and target key.
// A relation declared again (the same type, reverse and target key) adds
// nothing: its two directions are those of the first, which declared keeps.
func relationsOf(self Ref, declared []DeclaredRelation) []Relation {
	if len(declared) == 0 {
		return nil
	}
	type keyed struct {
		rel      Relation
		src, dst string
	}
	selfKey := self.Key()
	rels := make([]keyed, 0, 2*len(declared))
	for _, d := range declared {
		targetKey := d.Target.Key()
		rels = append(rels, keyed{Relation{Source: self, Type: d.Type, Target: d.Target}, selfKey, targetKey},
			keyed{Relation{Source: d.Target, Type: d.Reverse, Target: self}, targetKey, selfKey})
	}
	// Sorted stably (an order of indexes, cheaper to move than relations),
	// duplicates are adjacent with the first added first: it is the one kept.
	same := func(a, b *keyed) bool { return a.src == b.src && a.rel.Type == b.rel.Type && a.dst == b.dst }
	order := make([]int32, len(rels))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(i, j int32) int {
		a, b := &rels[i], &rels[j]
		if c := strings.Compare(a.src, b.src); c != 0 {
			return c
		}
		if c := strings.Compare(a.rel.Type, b.rel.Type); c != 0 {
			return c
		}
		return strings.Compare(a.dst, b.dst)
	})
	out := make([]Relation, 0, len(rels))
	for n, i := range order {
		if n > 0 && same(&rels[order[n-1]], &rels[i]) {
			continue
		}
		out = append(out, rels[i].rel)
	}
	return out
}

// Ref returns the entity's reference.
func (e *Entity) Ref() Ref { return e.ref }

// Kind returns the kind as written in the descriptor.
func (e *Entity) Kind() string { return e.ref.Kind }

// Body returns the descriptor body with metadata.namespace set. Callers must not
// modify it.
func (e *Entity) Body() map[string]any { return e.body }

// Relations returns the relations the entity's spec declares, in both directions:
// those whose source is the entity and the reverse ones whose target is.
// They are made from Declared on the first call, once, safely for
// concurrent callers.
func (e *Entity) Relations() []Relation {
	e.relsOnce.Do(func() { e.relations = relationsOf(e.ref, e.declared) })
	return e.relations
}

// Declared returns the relations the entity's spec declares, each once, from
// the entity, with their reverse types, in the order the spec names them:
// Relations holds each of them and its reverse.
func (e *Entity) Declared() []DeclaredRelation { return e.declared }

// Annotations returns metadata.annotations, or nil.
func (e *Entity) Annotations() map[string]any {
	md, _ := e.body["metadata"].(map[string]any)
	a, _ := md["annotations"].(map[string]any)
	return a
}

// WithAnnotations returns a copy of the entity with the given annotations set.
func (e *Entity) WithAnnotations(set map[string]string) *Entity {
	out := withMetadata(e.body, func(md map[string]any) {
		old, _ := md["annotations"].(map[string]any)
		ann := make(map[string]any, len(old)+len(set))
		for k, v := range old {
			ann[k] = v
		}
		for k, v := range set {
			ann[k] = v
		}
		md["annotations"] = ann
	})
	return &Entity{body: out, ref: e.ref, declared: e.declared}
}

// JSON returns the canonical JSON of the body: keys sorted, no insignificant space.
func (e *Entity) JSON() []byte {
	b, err := EncodeJSON(e.body)
	if err != nil {
		// Bodies come from YAML or JSON and hold only JSON-encodable values.
		panic(fmt.Sprintf("catalog: entity %s is not JSON-encodable: %v", e.ref, err))
	}
	return b
}

// Hash returns the hex SHA-256 of JSON.
func (e *Entity) Hash() string { return HashJSON(e.JSON()) }

// HashJSON returns the hex SHA-256 of canonical entity JSON.
func HashJSON(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// GeneratedLocationName returns the name of the Location entity Backlot generates
// for a registered location, as Backstage does: "generated-" and the SHA-1 of
// "type:target".
func GeneratedLocationName(locType, target string) string {
	sum := sha1.Sum([]byte(locType + ":" + target))
	return "generated-" + hex.EncodeToString(sum[:])
}

// GeneratedLocationRef returns the ref of the generated Location entity.
func GeneratedLocationRef(locType, target string) Ref {
	return Ref{Kind: "Location", Namespace: DefaultNamespace, Name: GeneratedLocationName(locType, target)}
}

// AnnotationSourceLocation names the folder of the repository an entity's
// source lives in, as url:<folder URL>; Backlot sets it, as Backstage does,
// on entities read from url locations that do not set it themselves.
const AnnotationSourceLocation = "backstage.io/source-location"

// SourceLocation returns the source-location annotation of an entity read
// from managedBy (a url:… location of one file): the url of the file's
// folder, in the file URL's own form (blob URLs become tree URLs, and a
// ?ref=&path= URL keeps its ref and the folder as path). It returns "" for
// other locations.
func SourceLocation(managedBy string) string {
	u, ok := strings.CutPrefix(managedBy, "url:")
	if !ok || u == "" {
		return ""
	}
	if base, query, ok := strings.Cut(u, "?"); ok {
		var keep []string
		for _, kv := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			if k == "path" {
				if i := strings.LastIndex(v, "/"); i >= 0 {
					keep = append(keep, "path="+v[:i+1])
				} else if j := strings.LastIndex(v, "%2F"); j >= 0 {
					keep = append(keep, "path="+v[:j+3])
				}
				continue
			}
			keep = append(keep, kv)
		}
		if len(keep) == 0 {
			return "url:" + base
		}
		return "url:" + base + "?" + strings.Join(keep, "&")
	}
	if i := strings.LastIndex(u, "/"); i > strings.Index(u, "://")+2 {
		u = u[:i+1]
	}
	return "url:" + strings.Replace(u, "/blob/", "/tree/", 1)
}
