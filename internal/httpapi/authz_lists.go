package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"backlot.dev/backlot/policies/permission"
	"backlot.dev/backlot/projections/catalogstore"
)

// visible is the catalog a list answers from for the request: the catalog
// (or the catalog as of the asOf parameter) itself when one decision of
// catalog.entity.read covers every entity (the route checked it), else the
// catalog as the principal may read it, each entity decided (readableReader).
func (s *server) visible(r *http.Request) catalogstore.Reader {
	rd := s.at(r)
	keep := s.readable(r, permission.CatalogEntityRead)
	if keep == nil {
		return rd
	}
	return &readableReader{Reader: rd, keep: keep, members: newOwnerMembers(rd)}
}

// scanChunk is how many entities readableReader reads from the catalog at a
// time while it looks for readable ones.
var scanChunk = 200

// readableReader is a catalog reader that holds only the entities keep
// allows: queries page, count and facet over those alone, so cursors,
// offsets and totals stay right whatever the policy hides. It reads the
// underlying catalog in chunks, deciding each entity once per chunk read, so
// it costs a decision per entity it passes (a total, a facet count or a deep
// offset passes every matching entity); it is used only when the policy's
// rules for catalog.entity.read read the resource.
type readableReader struct {
	catalogstore.Reader
	keep    func(permission.Resource) bool
	members *ownerMembers
}

// allowed decides one entity.
func (v *readableReader) allowed(ctx context.Context, e *catalogstore.EntityView) (bool, error) {
	res, err := v.members.resource(ctx, e)
	if err != nil {
		return false, err
	}
	return v.keep(res), nil
}

// ByKeys answers nil for the entities the principal may not read.
func (v *readableReader) ByKeys(ctx context.Context, keys []string) ([]*catalogstore.EntityView, error) {
	views, err := v.Reader.ByKeys(ctx, keys)
	if err != nil {
		return nil, err
	}
	for i, e := range views {
		if e == nil {
			continue
		}
		ok, err := v.allowed(ctx, e)
		if err != nil {
			return nil, err
		}
		if !ok {
			views[i] = nil
		}
	}
	return views, nil
}

// ByUID answers catalogstore.ErrNotFound for an entity the principal may not read.
func (v *readableReader) ByUID(ctx context.Context, uid string) (*catalogstore.EntityView, error) {
	e, err := v.Reader.ByUID(ctx, uid)
	if err != nil {
		return nil, err
	}
	ok, err := v.allowed(ctx, e)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, catalogstore.ErrNotFound
	}
	return e, nil
}

// scan calls each for every readable entity q selects, in q's order (after
// q.After, or backwards before q.Before), with the inner query and index it
// came from, until each answers false.
func (v *readableReader) scan(ctx context.Context, q catalogstore.PageQuery, each func(inner catalogstore.PageQuery, page catalogstore.Page, i int) bool) error {
	inner := q
	inner.Offset, inner.CountTotal, inner.Limit = 0, false, scanChunk
	backward := q.Before != nil
	for {
		page, err := v.Reader.Query(ctx, inner)
		if err != nil {
			return err
		}
		for n := range page.Items {
			i := n
			if backward {
				i = len(page.Items) - 1 - n
			}
			ok, err := v.allowed(ctx, &page.Items[i])
			if err != nil {
				return err
			}
			if ok && !each(inner, page, i) {
				return nil
			}
		}
		if backward {
			if !page.HasPrev || page.First == nil {
				return nil
			}
			inner.Before = page.First
		} else {
			if !page.HasNext || page.Last == nil {
				return nil
			}
			inner.After = page.Last
		}
	}
}

// keysetAt is the keyset of item i of the page inner answered: the same
// query cut just after it (or, backwards, just before it).
func (v *readableReader) keysetAt(ctx context.Context, inner catalogstore.PageQuery, page catalogstore.Page, i int) (*catalogstore.Keyset, error) {
	cut := inner
	if inner.Before != nil {
		cut.Limit = len(page.Items) - i
	} else {
		cut.Limit = i + 1
	}
	p, err := v.Reader.Query(ctx, cut)
	if err != nil {
		return nil, err
	}
	if inner.Before != nil {
		return p.First, nil
	}
	return p.Last, nil
}

// position is where an item was found, to find its keyset later.
type position struct {
	inner catalogstore.PageQuery
	page  catalogstore.Page
	i     int
}

// Query answers a page of readable entities: Offset counts readable ones,
// First and Last are the keysets of the page's first and last items, HasNext
// and HasPrev say whether readable ones lie beyond, and TotalItems counts
// every readable match.
func (v *readableReader) Query(ctx context.Context, q catalogstore.PageQuery) (catalogstore.Page, error) {
	var out catalogstore.Page
	if q.CountTotal {
		if err := v.scan(ctx, catalogstore.PageQuery{Filter: q.Filter, FullText: q.FullText, Order: q.Order, LocationID: q.LocationID},
			func(catalogstore.PageQuery, catalogstore.Page, int) bool { out.TotalItems++; return true }); err != nil {
			return out, err
		}
	}
	skip := 0
	if q.After == nil && q.Before == nil {
		skip = q.Offset
	}
	var found []position
	more := false
	err := v.scan(ctx, q, func(inner catalogstore.PageQuery, page catalogstore.Page, i int) bool {
		if skip > 0 {
			skip--
			out.HasPrev = true
			return true
		}
		if q.Limit > 0 && len(found) == q.Limit {
			more = true
			return false
		}
		found = append(found, position{inner, page, i})
		return true
	})
	if err != nil {
		return out, err
	}
	if len(found) == 0 {
		return out, nil
	}
	if q.Before != nil {
		slices.Reverse(found)
		out.HasPrev, out.HasNext = more, true
	} else {
		out.HasNext = more
	}
	for _, f := range found {
		out.Items = append(out.Items, f.page.Items[f.i])
	}
	first, last := found[0], found[len(found)-1]
	if out.First, err = v.keysetAt(ctx, first.inner, first.page, first.i); err != nil {
		return out, err
	}
	if out.Last, err = v.keysetAt(ctx, last.inner, last.page, last.i); err != nil {
		return out, err
	}
	if q.After != nil && !out.HasPrev {
		// Readable entities before this page: the one the cursor was cut at
		// was readable, but look, in case the policy changed.
		back := catalogstore.PageQuery{Filter: q.Filter, FullText: q.FullText, Order: q.Order, LocationID: q.LocationID, Before: out.First}
		err = v.scan(ctx, back, func(catalogstore.PageQuery, catalogstore.Page, int) bool { out.HasPrev = true; return false })
	}
	return out, err
}

// Facets counts the values of each facet over the readable entities
// matching f, reading each entity's field (a dotted path into its body, or
// relations.<type>) as the store does: a string counts once, a list of
// strings counts each.
func (v *readableReader) Facets(ctx context.Context, facets []string, f catalogstore.Filter) (map[string][]catalogstore.FacetCount, error) {
	counts := make([]map[string]int, len(facets))
	for i := range counts {
		counts[i] = map[string]int{}
	}
	err := v.scan(ctx, catalogstore.PageQuery{Filter: f}, func(_ catalogstore.PageQuery, page catalogstore.Page, i int) bool {
		e := &page.Items[i]
		var body map[string]any
		_ = json.Unmarshal(e.Body, &body)
		for n, facet := range facets {
			for _, val := range facetValues(e, body, facet) {
				counts[n][val]++
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string][]catalogstore.FacetCount, len(facets))
	for n, facet := range facets {
		list := []catalogstore.FacetCount{}
		for val, c := range counts[n] {
			list = append(list, catalogstore.FacetCount{Value: val, Count: c})
		}
		slices.SortFunc(list, func(a, b catalogstore.FacetCount) int {
			if a.Count != b.Count {
				return b.Count - a.Count
			}
			return strings.Compare(a.Value, b.Value)
		})
		out[facet] = list
	}
	return out, nil
}

// facetValues reads the values of one facet of an entity.
func facetValues(e *catalogstore.EntityView, body map[string]any, facet string) []string {
	if typ, ok := strings.CutPrefix(facet, "relations."); ok {
		var out []string
		for _, rel := range e.Relations {
			if strings.EqualFold(rel.Type, typ) {
				out = append(out, rel.TargetRef)
			}
		}
		return out
	}
	var cur any = body
	for _, part := range strings.Split(facet, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	switch x := cur.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, it := range x {
			if s, ok := it.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
