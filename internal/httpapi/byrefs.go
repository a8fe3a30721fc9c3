package httpapi

import (
	"encoding/json"
	"net/http"
	"slices"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/projections/catalogstore"
)

// byRefsRequest is the body of POST /entities/by-refs.
type byRefsRequest struct {
	EntityRefs *[]string        `json:"entityRefs"`
	Fields     []string         `json:"fields"`
	Query      *json.RawMessage `json:"query"`
}

// byRefsChunk is how many refs one filtered lookup checks at a time.
const byRefsChunk = 200

// maxLookupValues bounds the values the refs add to one filtered lookup, which
// repeats them in each of the filter's alternatives, to stay well inside
// SQLite's limit of 32766 bound values per statement.
const maxLookupValues = 20000

// getEntitiesByRefs answers POST /entities/by-refs: the entities named, in the
// order named, null for those missing or not matching the filter parameters.
func (s *server) getEntitiesByRefs(w http.ResponseWriter, r *http.Request) error {
	q, filter, err := parseQueryAndFilter(r.URL.RawQuery)
	if err != nil {
		return err
	}
	var body byRefsRequest
	if err := s.decodeBody(w, r, &body, false); err != nil {
		return err
	}
	if body.EntityRefs == nil {
		return inputError("Malformed request body: entityRefs is required, an array of entity refs")
	}
	if body.Query != nil && string(*body.Query) != "null" {
		return inputError("Malformed request body: predicate queries (query) are not supported; use the filter parameter")
	}
	fields, err := parseFields(slices.Concat(q["fields"], body.Fields))
	if err != nil {
		return err
	}
	refs := *body.EntityRefs
	keys := make([]string, len(refs))
	parsed := make([]catalog.Ref, len(refs))
	for i, raw := range refs {
		ref, err := catalog.ParseRef(raw, catalog.RefDefaults{})
		if err != nil {
			return inputError("Invalid entityRefs[%d]: %v", i, err)
		}
		keys[i], parsed[i] = ref.Key(), ref
	}
	views, err := s.at(r).ByKeys(r.Context(), keys)
	if err != nil {
		return err
	}
	if len(filter) > 0 {
		if err := s.keepMatching(r, views, parsed, filter); err != nil {
			return err
		}
	}
	proj := newProjection(fields)
	items := make([]json.RawMessage, len(views))
	for i, v := range views {
		if v == nil {
			items[i] = json.RawMessage("null")
			continue
		}
		if items[i], err = renderEntity(v, proj); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

// keepMatching sets to nil the views that do not match filter.
func (s *server) keepMatching(r *http.Request, views []*catalogstore.EntityView, refs []catalog.Ref, filter catalogstore.Filter) error {
	matching := map[string]bool{}
	chunk := max(1, min(byRefsChunk, maxLookupValues/(3*len(filter))))
	for start := 0; start < len(refs); start += chunk {
		part := refs[start:min(start+chunk, len(refs))]
		var kinds, namespaces, names []string
		for _, ref := range part {
			kinds = append(kinds, ref.Kind)
			namespaces = append(namespaces, ref.Namespace)
			names = append(names, ref.Name)
		}
		narrowed := make(catalogstore.Filter, len(filter))
		for i, conj := range filter {
			narrowed[i] = append(append([]catalogstore.Condition{}, conj...),
				catalogstore.Condition{Key: "kind", Values: kinds},
				catalogstore.Condition{Key: "metadata.namespace", Values: namespaces},
				catalogstore.Condition{Key: "metadata.name", Values: names})
		}
		page, err := s.at(r).Query(r.Context(), catalogstore.PageQuery{Filter: narrowed})
		if err != nil {
			return err
		}
		for _, v := range page.Items {
			matching[v.Key] = true
		}
	}
	for i, v := range views {
		if v != nil && !matching[v.Key] {
			views[i] = nil
		}
	}
	return nil
}
