package httpapi

import (
	"encoding/json"
	"net/http"
	"net/url"

	"backlot.dev/backlot/projections/catalogstore"
)

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
	page, err := s.at(r).Query(r.Context(), pq)
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
		page, err := s.at(r).Query(r.Context(), pq)
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
