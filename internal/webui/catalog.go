package webui

import (
	"context"
	"slices"
	"strings"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/policies/permission"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/catalogstore"
)

func init() {
	Register(Page{Pattern: "GET /catalog", Section: "catalog", Template: "catalog.html",
		Permission: permission.CatalogEntityRead, Load: loadCatalog})
}

// CatalogPageSize is how many entities a page of the catalog table shows.
const CatalogPageSize = 25

// maxBadgeMatches bounds the entities a badge-level filter takes from the
// badge read model; the page says when the filter hit it.
const maxBadgeMatches = 2000

// DefaultKind is the kind the catalog shows when its URL names none, as
// Backstage's catalog does; kind=all shows every kind. Listing one kind by
// name reads the (kind, name) index, which keeps the first page fast at any
// size.
const DefaultKind = "Component"

// nameFields are what the search looks in by default: names and titles
// (an index range each); scope=all looks in every field, which reads every
// value of the catalog.
var nameFields = []string{"metadata.name", "metadata.title", "spec.profile.displayname"}

// catalogFacet is one filter of the catalog page: its URL parameter, the
// searched field, and its label.
type catalogFacet struct {
	Param, Field, Label string
}

// catalogFacets are the catalog page's filters, in the order shown.
var catalogFacets = []catalogFacet{
	{"kind", "kind", "Kind"},
	{"type", "spec.type", "Type"},
	{"lifecycle", "spec.lifecycle", "Lifecycle"},
	{"owner", "spec.owner", "Owner"},
	{"system", "spec.system", "System"},
	{"tag", "metadata.tags", "Tag"},
}

// catalogSorts maps a sort parameter to the field the query orders by.
var catalogSorts = map[string]string{
	"name": "metadata.name", "kind": "kind", "type": "spec.type", "owner": "spec.owner",
	"lifecycle": "spec.lifecycle", "system": "spec.system",
}

// facetView is a filter with its values and counts; Lag says whether the
// counts lagged behind the read model's last write.
type facetView struct {
	Param, Label string
	Values       []facetValue
	Lag          Lag
}

// facetValue is one value of a filter: its count and the URL that toggles it.
type facetValue struct {
	Value    string
	Count    int
	Selected bool
	URL      string
}

// catalogData is what catalog.html shows.
type catalogData struct {
	State     State
	Query     string
	AsOf      string
	Facets    []facetView
	Badge     *facetView
	BadgeCap  bool
	FacetLag  Lag
	Items     []Summary
	Pager     Pager
	Filtered  bool
	SortField string
	AllFields bool
	AllKinds  string
	KindAll   bool
}

// loadCatalog answers the catalog page: the search, the filters with their
// counts and one page of the table, read with the catalog's paged query and
// facets, never the whole catalog.
func loadCatalog(s *Server, r *Request) (any, string, error) {
	ctx := r.Context()
	st := StateOf(r)
	switch kinds := st.All("kind"); {
	case len(kinds) == 0:
		st.q["kind"] = []string{DefaultKind}
	case slices.Contains(kinds, "all"):
		delete(st.q, "kind")
		defer func() { st.q["kind"] = []string{"all"} }()
	}
	d := &catalogData{State: st, Query: strings.TrimSpace(st.Get("q")), AsOf: st.Get("asOf"), AllFields: st.Get("scope") == "all"}
	d.KindAll = len(st.All("kind")) == 0
	d.AllKinds = st.With("kind", "all")
	reader, err := s.catalogAt(ctx, d.AsOf)
	if err != nil {
		return nil, "", err
	}
	conds := map[string]catalogstore.Condition{}
	for _, f := range catalogFacets {
		if vs := st.All(f.Param); len(vs) > 0 {
			conds[f.Param] = catalogstore.Condition{Key: f.Field, Values: vs}
			if f.Param != "kind" {
				d.Filtered = true
			}
		}
	}
	badgeConds, err := s.badgeConditions(ctx, st.Get("badge"), d)
	if err != nil {
		return nil, "", err
	}
	filterWithout := func(skip string) catalogstore.Filter {
		var c []catalogstore.Condition
		for _, f := range catalogFacets {
			if cond, ok := conds[f.Param]; ok && f.Param != skip {
				c = append(c, cond)
			}
		}
		if badgeConds == nil {
			if len(c) == 0 {
				return nil
			}
			return catalogstore.Filter{c}
		}
		var out catalogstore.Filter
		for _, bc := range badgeConds {
			out = append(out, append(slices.Clone(c), bc...))
		}
		return out
	}
	sortParam := st.Get("sort")
	field, ok := catalogSorts[sortParam]
	if !ok {
		sortParam, field = "name", "metadata.name"
	}
	d.SortField = sortParam
	q := catalogstore.PageQuery{
		Filter:     filterWithout(""),
		Order:      []catalogstore.Order{{Field: field, Desc: st.Get("dir") == "desc"}},
		Limit:      CatalogPageSize,
		CountTotal: true,
	}
	if d.Query != "" {
		q.FullText = catalogstore.FullText{Term: d.Query, Fields: nameFields}
		if d.AllFields {
			q.FullText.Fields = nil
		}
	}
	if q.After, err = DecodeCursor("after", st.Get("after")); err != nil {
		return nil, "", err
	}
	if q.Before, err = DecodeCursor("before", st.Get("before")); err != nil {
		return nil, "", err
	}
	page, lag, err := queryNoted(ctx, reader, q)
	if err != nil {
		return nil, "", err
	}
	for i := range page.Items {
		d.Items = append(d.Items, Summarize(&page.Items[i]))
	}
	d.Pager = PagerOf(st, page, lag)
	if d.Facets, err = facetsOf(ctx, reader, st, conds, filterWithout); err != nil {
		return nil, "", err
	}
	for _, f := range d.Facets {
		d.FacetLag = d.FacetLag.Merge(f.Lag)
	}
	if d.Badge != nil {
		d.FacetLag = d.FacetLag.Merge(d.Badge.Lag)
	}
	title := "Catalog"
	if d.AsOf != "" {
		title = "Catalog as of " + d.AsOf
	}
	return d, title, nil
}

// facetsOf counts every filter's values over the entities the other
// filters select: one facet query for the filters without a selection, one
// more for each filter with one (so its other values stay visible).
func facetsOf(ctx context.Context, reader catalogstore.Reader, st State, conds map[string]catalogstore.Condition, filterWithout func(string) catalogstore.Filter) ([]facetView, error) {
	var plain []string
	for _, f := range catalogFacets {
		if _, ok := conds[f.Param]; !ok {
			plain = append(plain, f.Field)
		}
	}
	counts := map[string][]catalogstore.FacetCount{}
	lags := map[string]Lag{}
	if len(plain) > 0 {
		fctx, lag := lagNote(ctx)
		got, err := reader.Facets(fctx, plain, filterWithout(""))
		if err != nil {
			return nil, err
		}
		for k, v := range got {
			counts[k] = v
		}
		for _, field := range plain {
			lags[field] = lag()
		}
	}
	for _, f := range catalogFacets {
		if _, ok := conds[f.Param]; !ok {
			continue
		}
		fctx, lag := lagNote(ctx)
		got, err := reader.Facets(fctx, []string{f.Field}, filterWithout(f.Param))
		if err != nil {
			return nil, err
		}
		counts[f.Field], lags[f.Field] = got[f.Field], lag()
	}
	var out []facetView
	for _, f := range catalogFacets {
		fv := facetView{Param: f.Param, Label: f.Label, Lag: lags[f.Field]}
		vals := slices.Clone(counts[f.Field])
		slices.SortStableFunc(vals, func(a, b catalogstore.FacetCount) int { return b.Count - a.Count })
		if len(vals) > 30 {
			vals = vals[:30]
		}
		for _, sel := range st.All(f.Param) {
			if !slices.ContainsFunc(vals, func(c catalogstore.FacetCount) bool { return strings.EqualFold(c.Value, sel) }) {
				vals = append(vals, catalogstore.FacetCount{Value: sel})
			}
		}
		for _, c := range vals {
			u := st.Toggle(f.Param, c.Value)
			if f.Param == "kind" && st.Has("kind", c.Value) && len(st.All("kind")) == 1 {
				u = st.With("kind", "all")
			}
			fv.Values = append(fv.Values, facetValue{Value: c.Value, Count: c.Count, Selected: st.Has(f.Param, c.Value), URL: u})
		}
		out = append(out, fv)
	}
	return out, nil
}

// badgeConditions reads the badge filter (policy:level; level "none" for
// no level) and lists the filter's choices in d.Badge. With a filter it
// returns one conjunction per kind and namespace of the entities at that
// level (up to maxBadgeMatches), to AND with the other filters; nil
// without one.
func (s *Server) badgeConditions(ctx context.Context, v string, d *catalogData) ([][]catalogstore.Condition, error) {
	if s.cfg.Badges == nil || s.cfg.Catalog == nil {
		return nil, nil
	}
	fv, err := s.badgeFacet(ctx, d.State)
	if err != nil {
		return nil, err
	}
	d.Badge = fv
	if v == "" {
		return nil, nil
	}
	policy, level, ok := strings.Cut(v, ":")
	if !ok || policy == "" {
		return nil, fault.New(fault.Invalid, "badge", "badge=%q: give policy:level, such as test-certification:gold", v)
	}
	if level == "none" {
		level = ""
	}
	d.Filtered = true
	res, err := s.cfg.Badges.Results(ctx, badges.ResultQuery{Policy: policy, Level: level, ByLevel: true, Limit: maxBadgeMatches + 1})
	if err != nil {
		return nil, err
	}
	if len(res) > maxBadgeMatches {
		res, d.BadgeCap = res[:maxBadgeMatches], true
	}
	if len(res) == 0 {
		// Nothing stands at that level: a condition no entity meets.
		return [][]catalogstore.Condition{{{Key: "metadata.name", Values: []string{"\x00"}}}}, nil
	}
	groups := map[[2]string][]string{}
	var order [][2]string
	for _, b := range res {
		kind, ns, name := splitRef(b.Entity)
		k := [2]string{kind, ns}
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], name)
	}
	var out [][]catalogstore.Condition
	for _, k := range order {
		out = append(out, []catalogstore.Condition{
			{Key: "kind", Values: []string{k[0]}}, {Key: "metadata.namespace", Values: []string{k[1]}},
			{Key: "metadata.name", Values: groups[k]},
		})
	}
	return out, nil
}

// badgeFacet lists each policy's levels with how many entities stand at
// each (over the whole catalog: the badge read model's tally, through the
// scorecards' lagging cache, tallyOf, so a busy catalog page does not count
// on every request).
func (s *Server) badgeFacet(ctx context.Context, st State) (*facetView, error) {
	counts, lag, err := s.badgeTallies(ctx)
	if err != nil {
		return nil, err
	}
	fv := &facetView{Param: "badge", Label: "Badge level", Lag: lag}
	for _, c := range counts {
		sel := st.Get("badge") == c.Value
		u := st.With("badge", c.Value)
		if sel {
			u = st.With("badge", "")
		}
		fv.Values = append(fv.Values, facetValue{Value: c.Value, Count: c.Count, Selected: sel, URL: u})
	}
	return fv, nil
}

// badgeTallies counts, per policy and level ("policy:level", "none" for no
// level), the entities at that level, and says whether a count lagged.
func (s *Server) badgeTallies(ctx context.Context) ([]catalogstore.FacetCount, Lag, error) {
	pol, err := s.cfg.Catalog.Query(ctx, catalogstore.PageQuery{
		Filter: catalogstore.Filter{{{Key: "kind", Values: []string{"policy"}}}}, Limit: 20,
		Order: []catalogstore.Order{{Field: "metadata.name"}},
	})
	if err != nil {
		return nil, Lag{}, err
	}
	var out []catalogstore.FacetCount
	var lag Lag
	for i := range pol.Items {
		name := Summarize(&pol.Items[i]).Name
		rows, l, err := s.tallyOf(ctx, name)
		if err != nil {
			return nil, Lag{}, err
		}
		lag = lag.Merge(l)
		per := map[string]int{}
		var levels []string
		for _, r := range rows {
			l := r.Level
			if l == "" {
				l = "none"
			}
			if _, ok := per[l]; !ok {
				levels = append(levels, l)
			}
			per[l] += r.Count
		}
		for _, l := range levels {
			out = append(out, catalogstore.FacetCount{Value: name + ":" + l, Count: per[l]})
		}
	}
	return out, lag, nil
}
