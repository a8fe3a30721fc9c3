package webui

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/policies/permission"
	"backlot.dev/backlot/projections/catalogstore"
)

func init() {
	Register(Page{Pattern: "GET /create/picker", Section: "create",
		Permission: permission.CatalogEntityRead, Method: servePicker})
}

// pickerLimit bounds the entities a picker offers at once: those whose name
// starts with what is typed, first in name order. Typing more narrows them;
// the catalog is never read whole, and a picker's answer costs the same in a
// catalog of ten entities or of a million.
const pickerLimit = 50

// The bounds of a picker request: a longer prefix names no entity (names
// are at most 63 characters), and a template names a few kinds.
const (
	maxPickerPrefix = 256
	maxPickerKinds  = 16
)

// pickerAnswer is what GET /create/picker answers: the entities offered and
// whether more match than are offered.
type pickerAnswer struct {
	Options []formOption `json:"options"`
	More    bool         `json:"more"`
}

// MarshalJSON writes an option as {"value", "label"}.
func (o formOption) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Value string `json:"value"`
		Label string `json:"label"`
	}{o.Value, o.Label})
}

// pickerKinds returns the kinds (lower case) a picker lists:
// catalogFilter's kind or allowedKinds in its ui:options, an OwnerPicker's
// groups and users by default; none means any kind.
func pickerKinds(picker string, opts map[string]any) []string {
	var kinds []string
	if f, ok := opts["catalogFilter"]; ok {
		filters := anyList(f)
		if m, ok := f.(map[string]any); ok {
			filters = []any{m}
		}
		for _, x := range filters {
			m, _ := x.(map[string]any)
			switch k := m["kind"].(type) {
			case string:
				kinds = append(kinds, k)
			case []any:
				kinds = append(kinds, stringList(k)...)
			}
		}
	}
	kinds = append(kinds, stringList(opts["allowedKinds"])...)
	if len(kinds) == 0 && picker == "OwnerPicker" {
		kinds = []string{"group", "user"}
	}
	for i := range kinds {
		kinds[i] = strings.ToLower(kinds[i])
	}
	slices.Sort(kinds)
	return slices.Compact(kinds)
}

// pickerURL is where the form's script asks for a picker's entities.
func pickerURL(kinds []string) string {
	return "/create/picker?" + url.Values{"kind": kinds}.Encode()
}

// namePrefix is the start of a name in what the user typed: the name part
// of a ref ("component:default/serv" and "default/serv" ask for "serv"),
// lower case.
func namePrefix(typed string) string {
	v := strings.ToLower(strings.TrimSpace(typed))
	if i := strings.LastIndexByte(v, '/'); i >= 0 {
		v = v[i+1:]
	} else if i := strings.IndexByte(v, ':'); i >= 0 {
		v = v[i+1:]
	}
	return v
}

// pickerOptions returns the first pickerLimit entities of the kinds (any
// kind when none) whose name starts with the name in typed, in name order,
// and whether more match. Each kind is one bounded read of the catalog
// (catalogstore.PrefixLister); a catalog that cannot list by prefix is read
// through a page ordered by name from the prefix on. A catalog that fails
// offers nothing: the field still takes a typed ref.
func (s *Server) pickerOptions(ctx context.Context, kinds []string, typed string) pickerAnswer {
	prefix := namePrefix(typed)
	if len(kinds) == 0 {
		kinds = []string{""}
	}
	type match struct {
		name string
		view catalogstore.EntityView
	}
	var all []match
	for _, k := range kinds {
		views, err := s.byNamePrefix(ctx, k, prefix, pickerLimit+1)
		if err != nil {
			s.cfg.Logger.Warn("picker: the catalog cannot list names", "kind", k, "err", err)
			continue
		}
		for _, v := range views {
			name := v.Ref[strings.LastIndexByte(v.Ref, '/')+1:]
			all = append(all, match{name: strings.ToLower(name), view: v})
		}
	}
	slices.SortFunc(all, func(a, b match) int {
		return cmp.Or(strings.Compare(a.name, b.name), strings.Compare(a.view.Key, b.view.Key))
	})
	ans := pickerAnswer{Options: []formOption{}, More: len(all) > pickerLimit}
	for i := range all[:min(len(all), pickerLimit)] {
		sum := Summarize(&all[i].view)
		label := sum.Name
		if sum.Title != "" && sum.Title != sum.Name {
			label = sum.Title + " · " + sum.Name
		}
		ans.Options = append(ans.Options, formOption{Value: all[i].view.Ref, Label: label + " (" + strings.ToLower(sum.Kind) + ")"})
	}
	return ans
}

// byNamePrefix reads up to limit entities of kind whose name starts with
// prefix, through the catalog's PrefixLister when it has one.
func (s *Server) byNamePrefix(ctx context.Context, kind, prefix string, limit int) ([]catalogstore.EntityView, error) {
	if pl, ok := s.cfg.Catalog.(catalogstore.PrefixLister); ok {
		return pl.ByNamePrefix(ctx, kind, prefix, limit)
	}
	q := catalogstore.PageQuery{Order: []catalogstore.Order{{Field: "metadata.name"}}, Limit: limit}
	if kind != "" {
		q.Filter = catalogstore.Filter{{{Key: "kind", Values: []string{kind}}}}
	}
	if prefix != "" {
		q.After = &catalogstore.Keyset{Values: []string{prefix}}
	}
	page, err := s.cfg.Catalog.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	out := page.Items[:0]
	for _, v := range page.Items {
		if strings.HasPrefix(strings.ToLower(v.Ref[strings.LastIndexByte(v.Ref, '/')+1:]), prefix) {
			out = append(out, v)
		}
	}
	return out, nil
}

// servePicker answers GET /create/picker?kind=K&kind=…&q=TYPED with the
// entities a picker of those kinds offers for what was typed, as JSON
// (pickerAnswer). A picker field asks it as the user types; it needs
// catalog.entity.read, as the catalog's own pages do.
func servePicker(s *Server, w http.ResponseWriter, r *Request) error {
	q := r.URL.Query()
	kinds := q["kind"]
	if len(kinds) > maxPickerKinds {
		return fault.New(fault.Invalid, "kind", "kind: %d kinds; a picker lists at most %d", len(kinds), maxPickerKinds)
	}
	for i, k := range kinds {
		kinds[i] = strings.ToLower(strings.TrimSpace(k))
		if kinds[i] == "" {
			return fault.New(fault.Invalid, "kind", "kind: an empty kind")
		}
	}
	typed := q.Get("q")
	if len(typed) > maxPickerPrefix {
		return fault.New(fault.Invalid, "q", "q: %d bytes; a picker reads at most %d", len(typed), maxPickerPrefix)
	}
	ans := s.pickerOptions(r.Context(), kinds, typed)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(ans)
}
