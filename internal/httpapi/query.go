package httpapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"backlot.dev/backlot/projections/catalogstore"
)

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

	if limit == 0 {
		// No items, only the total, as Backstage answers.
		total := cur.Total
		if pq.CountTotal {
			pq.Limit = 1
			page, err := s.at(r).Query(r.Context(), pq)
			if err != nil {
				return err
			}
			total = page.TotalItems
		}
		writeJSON(w, http.StatusOK, queryResponse{Items: []json.RawMessage{}, TotalItems: total})
		return nil
	}

	pq.Limit = limit
	page, err := s.at(r).Query(r.Context(), pq)
	if err != nil {
		return err
	}
	if cursorParam == "" {
		cur = newQueryCursor(pq.Filter, pq.Order, pq.FullText, page.TotalItems)
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
