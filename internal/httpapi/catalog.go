package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/policies/permission"
	"backlot.dev/backlot/projections/catalogstore"
)

// catalogRoutes adds Backstage's catalog API for entities under /api/catalog:
// the entity reads, facets, refresh and validation.
func (s *server) catalogRoutes(mux *http.ServeMux) {
	p := catalogPrefix
	route := func(pattern string, a access, h handlerFunc) { s.route(mux, pattern, a, h) }
	route("GET "+p+"/entities", needEach(permission.CatalogEntityRead), s.getEntities)
	route("GET "+p+"/entities/by-query", needEach(permission.CatalogEntityRead), s.queryEntities)
	route("GET "+p+"/entities/by-uid/{uid}", need(permission.CatalogEntityRead, s.entityByUID), s.getEntityByUID)
	route("DELETE "+p+"/entities/by-uid/{uid}", need(permission.CatalogEntityDelete, s.entityByUID), s.deleteEntityByUID)
	route("GET "+p+"/entities/by-name/{kind}/{namespace}/{name}", need(permission.CatalogEntityRead, s.entityByPath), s.getEntityByName)
	route("POST "+p+"/entities/by-refs", needEach(permission.CatalogEntityRead), s.getEntitiesByRefs)
	route("GET "+p+"/entity-facets", needEach(permission.CatalogEntityRead), s.getEntityFacets)
	route("POST "+p+"/refresh", needInHandler(permission.CatalogEntityRefresh), s.refresh)
	route("POST "+p+"/validate-entity", need(permission.CatalogEntityRead, nil), s.validateEntity)
	s.notOffered(mux,
		"POST "+p+"/entities/by-query",
		"POST "+p+"/entity-facets",
		"GET "+p+"/entities/by-name/{kind}/{namespace}/{name}/ancestry",
	)
}

// notOffered answers the patterns, endpoints of newer Backstage versions that
// Backlot does not offer, with 501 saying so, rather than answering that the
// route does not exist.
func (s *server) notOffered(mux *http.ServeMux, patterns ...string) {
	for _, pattern := range patterns {
		s.route(mux, pattern, openTo(openNotOffered), func(w http.ResponseWriter, r *http.Request) error {
			return notImplemented(r.Method + " " + r.URL.Path + " is not supported by Backlot (predicate queries, location updates, " +
				"location analysis and ancestry are not implemented); use the filter parameter of GET " + catalogPrefix + "/entities/by-query")
		})
	}
}

// streamChunkSize is how many entities GET /entities reads from the store at a
// time when it answers without a limit, so memory stays bounded by the chunk. It
// is a variable so tests can make chunks small.
var streamChunkSize = 500

// getEntities answers GET /entities: every entity matching filter, in order,
// optionally paged with offset, limit and after; a Link header points to the next
// page.
func (s *server) getEntities(w http.ResponseWriter, r *http.Request) error {
	q, filter, err := parseQueryAndFilter(r.URL.RawQuery)
	if err != nil {
		return err
	}
	fields, err := parseFields(q["fields"])
	if err != nil {
		return err
	}
	order, err := parseOrder(q["order"])
	if err != nil {
		return err
	}
	offset, _, err := parseInt(q, "offset")
	if err != nil {
		return err
	}
	limit, hasLimit, err := parseInt(q, "limit")
	if err != nil {
		return err
	}
	after, err := parseString(q, "after")
	if err != nil {
		return err
	}
	switch {
	case offset < 0:
		return inputError("Invalid offset, must be zero or greater")
	case hasLimit && limit <= 0:
		return inputError("Invalid limit, must be greater than zero")
	case q.Has("after") && after == "":
		return inputError("Invalid after, must not be empty")
	}
	if after != "" {
		c, err := decodeAfter(after)
		if err != nil {
			return err
		}
		if c.Limit != nil {
			limit, hasLimit = *c.Limit, true
		}
		if c.Offset != nil {
			offset = *c.Offset
		}
	}
	proj := newProjection(fields)
	pq := catalogstore.PageQuery{Filter: filter, Order: order, Offset: offset}
	if !hasLimit {
		return s.streamEntities(w, r, pq, proj)
	}
	pq.Limit = limit
	page, err := s.visible(r).Query(r.Context(), pq)
	if err != nil {
		return err
	}
	items, err := renderEntities(page.Items, proj)
	if err != nil {
		return err
	}
	if page.HasNext {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Del("offset")
		next.Set("after", encodeAfter(limit, offset+limit))
		w.Header().Set("Link", "<"+r.URL.Path+"?"+next.Encode()+`>; rel="next"`)
	}
	writeJSON(w, http.StatusOK, items)
	return nil
}

// streamEntities writes every entity pq selects as one JSON array, reading the
// store a chunk at a time. An error after the response has begun aborts it, so
// the client sees a broken body rather than a short list.
func (s *server) streamEntities(w http.ResponseWriter, r *http.Request, pq catalogstore.PageQuery, proj *projection) error {
	pq.Limit = streamChunkSize
	begun, n := false, 0
	for {
		page, err := s.visible(r).Query(r.Context(), pq)
		if err != nil {
			if !begun {
				return err
			}
			s.log.Error("streaming entities failed", "url", r.URL.RequestURI(), "error", err)
			panic(http.ErrAbortHandler)
		}
		if !begun {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusOK)
			w.Write([]byte("["))
			begun = true
		}
		for i := range page.Items {
			raw, err := renderEntity(&page.Items[i], proj)
			if err != nil {
				s.log.Error("rendering entity failed", "entity", page.Items[i].Ref, "error", err)
				panic(http.ErrAbortHandler)
			}
			if n > 0 {
				w.Write([]byte(","))
			}
			w.Write(raw)
			n++
		}
		if !page.HasNext || page.Last == nil {
			break
		}
		pq.After, pq.Offset = page.Last, 0
	}
	w.Write([]byte("]\n"))
	return nil
}

// renderEntities renders a page of entities, projected when proj is set.
func renderEntities(views []catalogstore.EntityView, proj *projection) ([]json.RawMessage, error) {
	items := make([]json.RawMessage, len(views))
	for i := range views {
		raw, err := renderEntity(&views[i], proj)
		if err != nil {
			return nil, err
		}
		items[i] = raw
	}
	return items, nil
}

// getEntityByUID answers GET /entities/by-uid/{uid}.
func (s *server) getEntityByUID(w http.ResponseWriter, r *http.Request) error {
	uid := r.PathValue("uid")
	v, err := s.reader.ByUID(r.Context(), uid)
	if err != nil {
		if errors.Is(err, catalogstore.ErrNotFound) {
			return notFoundError("No entity with uid %s", uid)
		}
		return err
	}
	raw, err := renderEntity(v, nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, raw)
	return nil
}

// deleteEntityByUID answers DELETE /entities/by-uid/{uid} with 204.
func (s *server) deleteEntityByUID(w http.ResponseWriter, r *http.Request) error {
	if err := s.writer.DeleteEntityByUID(r.Context(), s.actor(r), r.PathValue("uid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// getEntityByName answers GET /entities/by-name/{kind}/{namespace}/{name},
// matching case-insensitively.
func (s *server) getEntityByName(w http.ResponseWriter, r *http.Request) error {
	kind, ns, name := r.PathValue("kind"), r.PathValue("namespace"), r.PathValue("name")
	ref := catalog.Ref{Kind: kind, Namespace: ns, Name: name}
	views, err := s.at(r).ByKeys(r.Context(), []string{ref.Key()})
	if err != nil {
		return err
	}
	if views[0] == nil {
		return notFoundError("No entity named '%s' found, with kind '%s' in namespace '%s'", name, kind, ns)
	}
	raw, err := renderEntity(views[0], nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, raw)
	return nil
}

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
	views, err := s.visible(r).ByKeys(r.Context(), keys)
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
		page, err := s.visible(r).Query(r.Context(), catalogstore.PageQuery{Filter: narrowed})
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

// facetsResponse is the body of GET /entity-facets.
type facetsResponse struct {
	Facets map[string][]catalogstore.FacetCount `json:"facets"`
}

// getEntityFacets answers GET /entity-facets: for each facet, its values and how
// many entities matching filter have each.
func (s *server) getEntityFacets(w http.ResponseWriter, r *http.Request) error {
	q, filter, err := parseQueryAndFilter(r.URL.RawQuery)
	if err != nil {
		return err
	}
	var facets []string
	for _, f := range q["facet"] {
		if f != "" {
			facets = append(facets, f)
		}
	}
	if len(facets) == 0 {
		return inputError("Missing facet parameter")
	}
	r, lag := noteLag(r)
	counts, err := s.visible(r).Facets(r.Context(), facets, filter)
	if err != nil {
		return err
	}
	markLagging(w, lag, laggingFacets)
	out := facetsResponse{Facets: make(map[string][]catalogstore.FacetCount, len(facets))}
	for _, f := range facets {
		c := counts[f]
		if c == nil {
			c = []catalogstore.FacetCount{}
		}
		out.Facets[f] = c
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// defaultQueryLimit is the page size of by-query when the request names none, as in Backstage.
const defaultQueryLimit = 20

// maxQueryLimit caps the page size of by-query, so one request cannot hold the
// whole catalog in memory; a larger limit gets pages of this size, with cursors
// to the rest.
const maxQueryLimit = 1000

// queryResponse is the body of GET /entities/by-query.
type queryResponse struct {
	Items      []json.RawMessage `json:"items"`
	TotalItems int               `json:"totalItems"`
	PageInfo   pageInfo          `json:"pageInfo"`
}

type pageInfo struct {
	NextCursor string `json:"nextCursor,omitempty"`
	PrevCursor string `json:"prevCursor,omitempty"`
}

// queryEntities answers GET /entities/by-query: a page of entities with the
// total and cursors to the pages after and before it. With a cursor, the query it
// carries is used and the request's filter, orderField and full-text parameters
// are ignored, as in Backstage.
func (s *server) queryEntities(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	fields, err := parseFields(q["fields"])
	if err != nil {
		return err
	}
	limit, hasLimit, err := parseInt(q, "limit")
	if err != nil {
		return err
	}
	if !hasLimit {
		limit = defaultQueryLimit
	}
	if limit < 0 {
		return inputError("Invalid limit, must be zero or greater")
	}
	limit = min(limit, maxQueryLimit)
	cursorParam, err := parseString(q, "cursor")
	if err != nil {
		return err
	}

	var pq catalogstore.PageQuery
	var cur queryCursor
	if cursorParam != "" {
		cur, err = decodeQueryCursor(cursorParam)
		if err != nil {
			return err
		}
		pq = catalogstore.PageQuery{Filter: cur.filter(), Order: cur.order(), FullText: cur.fullText()}
		ks := cur.Keyset
		if cur.Previous {
			pq.Before = &ks
		} else {
			pq.After = &ks
		}
	} else {
		if pq, err = initialQuery(q); err != nil {
			return err
		}
		total, err := parseString(q, "totalItems")
		if err != nil {
			return err
		}
		switch total {
		case "", "include":
			pq.CountTotal = true
		case "exclude":
		default:
			return inputError("Invalid totalItems %q, expected include or exclude", total)
		}
	}

	r, lag := noteLag(r)
	if limit == 0 {
		// No items, only the total, as Backstage answers.
		total := cur.Total
		if pq.CountTotal {
			pq.Limit = 1
			page, err := s.visible(r).Query(r.Context(), pq)
			if err != nil {
				return err
			}
			total = page.TotalItems
			markLagging(w, lag, laggingTotal)
		}
		writeJSON(w, http.StatusOK, queryResponse{Items: []json.RawMessage{}, TotalItems: total})
		return nil
	}

	pq.Limit = limit
	page, err := s.visible(r).Query(r.Context(), pq)
	if err != nil {
		return err
	}
	if cursorParam == "" {
		cur = newQueryCursor(pq.Filter, pq.Order, pq.FullText, page.TotalItems)
		markLagging(w, lag, laggingTotal)
	}
	items, err := renderEntities(page.Items, newProjection(fields))
	if err != nil {
		return err
	}
	resp := queryResponse{Items: items, TotalItems: cur.Total}
	if page.HasNext && page.Last != nil {
		resp.PageInfo.NextCursor = cur.at(page.Last, false)
	}
	if page.HasPrev && page.First != nil {
		resp.PageInfo.PrevCursor = cur.at(page.First, true)
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// initialQuery reads the query of a by-query request without a cursor.
func initialQuery(q url.Values) (catalogstore.PageQuery, error) {
	var pq catalogstore.PageQuery
	var err error
	if pq.Filter, err = parseFilter(q["filter"]); err != nil {
		return pq, err
	}
	if pq.Order, err = parseOrderFields(q["orderField"]); err != nil {
		return pq, err
	}
	offset, _, err := parseInt(q, "offset")
	if err != nil {
		return pq, err
	}
	if offset < 0 {
		return pq, inputError("Invalid offset, must be zero or greater")
	}
	pq.Offset = offset
	term, err := parseString(q, "fullTextFilterTerm")
	if err != nil {
		return pq, err
	}
	pq.FullText.Term = strings.TrimSpace(term)
	for _, p := range q["fullTextFilterFields"] {
		for _, f := range strings.Split(p, ",") {
			if f = strings.TrimSpace(f); f != "" {
				pq.FullText.Fields = append(pq.FullText.Fields, f)
			}
		}
	}
	// Backstage searches the sort field when no fields are named; with no sort
	// field either, Backlot searches every field.
	if pq.FullText.Term != "" && len(pq.FullText.Fields) == 0 && len(pq.Order) > 0 {
		pq.FullText.Fields = []string{pq.Order[0].Field}
	}
	return pq, nil
}

// refreshRequest is the body of POST /refresh. Backstage also accepts an
// authorizationToken there; it is ignored, since Config.Actor says who calls.
type refreshRequest struct {
	EntityRef *string `json:"entityRef"`
}

// refresh answers POST /refresh: re-reads the location that manages the entity
// and answers 200 with an empty body, as Backstage does.
func (s *server) refresh(w http.ResponseWriter, r *http.Request) error {
	var req refreshRequest
	if err := s.decodeBody(w, r, &req, false); err != nil {
		return err
	}
	if req.EntityRef == nil || strings.TrimSpace(*req.EntityRef) == "" {
		return inputError("Malformed request: entityRef must be a non-empty string")
	}
	ref, err := catalog.ParseRef(*req.EntityRef, catalog.RefDefaults{})
	if err != nil {
		return inputError("Invalid entityRef: %v", err)
	}
	res, err := s.entityOrRef(r.Context(), ref.String(), newOwnerMembers(s.reader))
	if err != nil {
		return err
	}
	if err := s.authorize(r, permission.CatalogEntityRefresh, res); err != nil {
		return err
	}
	if err := s.writer.Refresh(r.Context(), s.actor(r), ref.String()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// validateRequest is the body of POST /validate-entity.
type validateRequest struct {
	Entity   json.RawMessage `json:"entity"`
	Location *string         `json:"location"`
}

// validateResponse is the 400 body of POST /validate-entity, which
// catalog-client's validateEntity turns into {valid: false, errors}.
type validateResponse struct {
	Errors []errorJSON `json:"errors"`
}

// validateEntity answers POST /validate-entity as Backstage does: 200 with an
// empty body when the entity is valid as if read from the location, else 400 with
// {"errors": [{name, message}]}, one error per offending field, each message
// naming the field. Failures that are not about the input (403, 503, 500) get
// the usual error body.
func (s *server) validateEntity(w http.ResponseWriter, r *http.Request) error {
	invalid := func(errs ...errorJSON) error {
		writeJSON(w, http.StatusBadRequest, validateResponse{Errors: errs})
		return nil
	}
	var req validateRequest
	if err := s.decodeBody(w, r, &req, false); err != nil {
		if status, name, msg := classify(r, err); status == http.StatusBadRequest {
			return invalid(errorJSON{Name: name, Message: msg})
		}
		return err
	}
	if req.Location == nil {
		return invalid(errorJSON{Name: "InputError", Message: "Malformed request: location is required, a location ref such as url:https://host/path/catalog-info.yaml"})
	}
	locType, target, ok := strings.Cut(*req.Location, ":")
	if !ok || locType == "" || target == "" {
		return invalid(errorJSON{Name: "InputError",
			Message: "Invalid location ref '" + *req.Location + "', expected '<type>:<target>', e.g. 'url:https://host/path'"})
	}
	var entity map[string]any
	if len(req.Entity) == 0 || json.Unmarshal(req.Entity, &entity) != nil || entity == nil {
		return invalid(errorJSON{Name: "InputError", Message: "Malformed request: entity must be a JSON object"})
	}
	err := s.writer.ValidateEntity(r.Context(), *req.Location, entity)
	if err == nil {
		w.WriteHeader(http.StatusOK)
		return nil
	}
	var ve *catalog.ValidationError
	if errors.As(err, &ve) {
		errs := make([]errorJSON, len(ve.Fields))
		for i, f := range ve.Fields {
			msg := f.Error()
			if ve.Entity != "" {
				msg = ve.Entity + ": " + msg
			}
			errs[i] = errorJSON{Name: "InputError", Message: msg}
		}
		if len(errs) == 0 {
			errs = append(errs, errorJSON{Name: "InputError", Message: err.Error()})
		}
		return invalid(errs...)
	}
	if status, name, msg := classify(r, err); status == http.StatusBadRequest {
		return invalid(errorJSON{Name: name, Message: msg})
	}
	return err
}
