package badging

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/catalogstore"
)

// The sources of the built-in collectors.
const (
	// SourceCatalog is what the catalog says of an entity: facts.catalog.
	SourceCatalog = "catalog"
	// SourceRepo is what the entity's repository holds: facts.repo.
	SourceRepo = "repo"
)

// dependencyRelations are the relations whose deprecated targets count in
// facts.catalog.deprecatedRefs.
var dependencyRelations = map[string]bool{catalog.RelationDependsOn: true, catalog.RelationConsumesAPI: true}

// descriptorFields are the fields a complete descriptor of each kind fills,
// beyond metadata.description.
var descriptorFields = map[string][]string{
	"component": {"spec.type", "spec.lifecycle", "spec.owner", "spec.system"},
	"api":       {"spec.type", "spec.lifecycle", "spec.owner", "spec.system", "spec.definition"},
	"resource":  {"spec.type", "spec.owner", "spec.system"},
	"system":    {"spec.owner", "spec.domain"},
	"domain":    {"spec.owner"},
	"group":     {"spec.type"},
	"template":  {"spec.type", "spec.owner"},
}

// CatalogFacts returns the facts the catalog itself holds about an entity:
//
//	descriptorComplete   bool      every field its kind should fill is filled
//	missingFields        [string]  the fields that are not
//	deprecatedRefs       [string]  the targets of its dependsOn and consumesApi
//	                               relations whose lifecycle is deprecated
//	dependsOnDeprecated  bool      deprecatedRefs is not empty
//
// deprecated says whether an entity key's lifecycle is deprecated.
func CatalogFacts(body map[string]any, rels []catalogstore.Relation, deprecated func(key string) bool) map[string]any {
	missing, deps := catalogFacts(body, rels, deprecated)
	return catalogFactsMap(missing, deps)
}

// catalogFactsMap returns the facts of CatalogFacts from their parts.
func catalogFactsMap(missing, deps []any) map[string]any {
	return map[string]any{
		"descriptorComplete":  len(missing) == 0,
		"missingFields":       missing,
		"deprecatedRefs":      deps,
		"dependsOnDeprecated": len(deps) > 0,
	}
}

// catalogFacts returns the parts of CatalogFacts: the fields missing and the
// deprecated dependencies.
func catalogFacts(body map[string]any, rels []catalogstore.Relation, deprecated func(key string) bool) (missing, deps []any) {
	kind := strings.ToLower(str(body["kind"]))
	missing = []any{}
	if !filled(body, "metadata.description") {
		missing = append(missing, "metadata.description")
	}
	for _, f := range descriptorFields[kind] {
		if !filled(body, f) {
			missing = append(missing, f)
		}
	}
	deps = []any{}
	for _, r := range rels {
		if dependencyRelations[r.Type] && deprecated(badges.Key(r.TargetRef)) {
			deps = append(deps, r.TargetRef)
		}
	}
	return missing, deps
}

func str(v any) string { s, _ := v.(string); return s }

// filled reports whether the dotted path holds a non-empty value.
func filled(body map[string]any, path string) bool {
	var v any = body
	for rest := path; ; {
		p, next, more := strings.Cut(rest, ".")
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		v = m[p]
		if !more {
			break
		}
		rest = next
	}
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return strings.TrimSpace(x) != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// lifecycle returns the spec.lifecycle of a stored body.
func lifecycle(body json.RawMessage) string {
	var b struct {
		Spec struct {
			Lifecycle string `json:"lifecycle"`
		} `json:"spec"`
	}
	_ = json.Unmarshal(body, &b)
	return strings.ToLower(b.Spec.Lifecycle)
}

// facts returns the facts to rate the entity on: those stored, with the
// built-in collectors' new ones over them; a built-in fact that changed is
// reported as an event too (a draft of it). The catalog's and the repository's facts are
// collected only when withCatalog and withRepo say a policy reads them.
func (r *rater) facts(key string, v *catalogstore.EntityView, body map[string]any, stored []badges.FactSet, withCatalog, withRepo bool) (map[string]map[string]any, []draft, error) {
	var evs []draft
	out := make(map[string]map[string]any, len(stored)+2)
	raw := make(map[string]json.RawMessage, len(stored))
	for _, f := range stored {
		m, err := catalog.DecodeJSONObject(f.Facts)
		if err != nil {
			return nil, nil, fmt.Errorf("badging: facts of %s from %s: %w", key, f.Source, err)
		}
		out[f.Source] = m
		raw[f.Source] = f.Facts
	}
	collected := map[string]map[string]any{}
	encoded := map[string]json.RawMessage{}
	if withCatalog {
		missing, deps := catalogFacts(body, v.Relations, func(k string) bool { return r.deprecated[k] })
		collected[SourceCatalog], encoded[SourceCatalog] = catalogFactsMap(missing, deps), marshalCatalogFacts(missing, deps)
	}
	if withRepo && r.e.cfg.Repo != nil && (r.upserted[key] || r.recollect[key] || raw[SourceRepo] == nil) {
		repo, err := r.e.cfg.Repo(r.ctx, v, r.commits[key])
		if err != nil {
			r.e.cfg.Logger.Warn("repository facts not collected", "entity", v.Ref, "err", err)
		} else if repo != nil {
			collected[SourceRepo] = repo
		}
	}
	for _, source := range []string{SourceCatalog, SourceRepo} {
		facts, ok := collected[source]
		if !ok {
			continue
		}
		enc, ok := encoded[source]
		if !ok {
			var err error
			if enc, err = json.Marshal(facts); err != nil {
				return nil, nil, err
			}
		}
		out[source] = facts
		if bytes.Equal(enc, raw[source]) {
			continue
		}
		// The event is made when the drafts are emitted (rater.emit).
		evs = append(evs, draft{f: &event.FactsReported{Entity: v.Ref, Source: source, Facts: enc, ObservedAt: r.now}})
	}
	return out, evs, nil
}
