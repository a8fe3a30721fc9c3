package webui

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// State is a page's URL query: what it shows (search, filters, sort, page,
// instant). Pages build their links from it, so every link keeps the rest
// of the state and every state is linkable.
type State struct {
	path string
	q    url.Values
}

// StateOf returns the state of the request's URL.
func StateOf(r *Request) State {
	return State{path: r.URL.Path, q: r.URL.Query()}
}

// Get returns the first value of the parameter.
func (s State) Get(key string) string { return s.q.Get(key) }

// All returns every value of the parameter, empty ones left out.
func (s State) All(key string) []string {
	var out []string
	for _, v := range s.q[key] {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Int returns the parameter as a number within [lo, hi], or def.
func (s State) Int(key string, def, lo, hi int) int {
	n, err := strconv.Atoi(s.q.Get(key))
	if err != nil {
		return def
	}
	return max(lo, min(hi, n))
}

// Has reports whether the parameter has the value.
func (s State) Has(key, value string) bool {
	for _, v := range s.q[key] {
		if strings.EqualFold(v, value) {
			return true
		}
	}
	return false
}

// With returns the URL with the parameter set to value (removed when value
// is ""), and the page cursor dropped, as any change of what is shown
// starts again on its first page.
func (s State) With(key, value string) string {
	q := cloneValues(s.q)
	q.Del("after")
	q.Del("before")
	if value == "" {
		q.Del(key)
	} else {
		q.Set(key, value)
	}
	return s.url(q)
}

// Toggle returns the URL with value added to (or, when present, removed
// from) the parameter's values, the page cursor dropped.
func (s State) Toggle(key, value string) string {
	q := cloneValues(s.q)
	q.Del("after")
	q.Del("before")
	var kept []string
	found := false
	for _, v := range q[key] {
		if strings.EqualFold(v, value) {
			found = true
			continue
		}
		kept = append(kept, v)
	}
	if !found {
		kept = append(kept, value)
	}
	if len(kept) == 0 {
		q.Del(key)
	} else {
		q[key] = kept
	}
	return s.url(q)
}

// Page returns the URL of another page of the same result: cursor key
// ("after" or "before") set to token, the other one dropped.
func (s State) Page(key, token string) string {
	q := cloneValues(s.q)
	q.Del("after")
	q.Del("before")
	if token != "" {
		q.Set(key, token)
	}
	return s.url(q)
}

// Sort returns the URL sorted by field: ascending, or descending when it is
// sorted ascending by field already.
func (s State) Sort(field string) string {
	q := cloneValues(s.q)
	q.Del("after")
	q.Del("before")
	if q.Get("sort") == field && q.Get("dir") != "desc" {
		q.Set("dir", "desc")
	} else {
		q.Del("dir")
	}
	q.Set("sort", field)
	return s.url(q)
}

// SortState says how the column field is sorted: "ascending",
// "descending" or "none", as aria-sort reads it.
func (s State) SortState(field, def string) string {
	cur := s.q.Get("sort")
	if cur == "" {
		cur = def
	}
	if cur != field {
		return "none"
	}
	if s.q.Get("dir") == "desc" {
		return "descending"
	}
	return "ascending"
}

// Clear returns the URL without any parameter.
func (s State) Clear() string { return s.path }

// Hidden lists the parameters other than those named, for a form's hidden
// fields, so submitting the form keeps the rest of the state.
func (s State) Hidden(except ...string) [][2]string {
	var out [][2]string
	for _, k := range slices.Sorted(maps.Keys(s.q)) {
		vs := s.q[k]
		if k == "after" || k == "before" || contains(except, k) {
			continue
		}
		for _, v := range vs {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}

func (s State) url(q url.Values) string {
	if len(q) == 0 {
		return s.path
	}
	return s.path + "?" + q.Encode()
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
