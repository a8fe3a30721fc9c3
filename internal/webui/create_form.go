package webui

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"backlot.dev/backlot/workflows/scaffolder"
)

// formField is one input of a template's parameter page, as create_form.html
// draws it.
type formField struct {
	// Name is the property's name (the form field's name); ID its element id.
	Name, ID string
	Label    string
	// Description is the schema's description; Help is ui:help.
	Description, Help string
	Placeholder       string
	// Widget is how it is drawn: text, textarea, password, number, select,
	// radio, checkbox, checkboxes, lines, picker (an input with a list of
	// catalog entities) or repourl.
	Widget    string
	Type      string
	Required  bool
	Autofocus bool
	Readonly  bool
	// Value is the current value as text; Values the chosen items of a list.
	Value  string
	Values []string
	// Options are an enum's values (with their ui:enumNames) or a picker's
	// entities.
	Options []formOption
	// Min, Max and Pattern are the schema's bounds, for the browser's own
	// checks; the server checks them again.
	Min, Max, Pattern string
	// Error is the API's message about this field.
	Error string
	// Repo is a RepoUrlPicker's parts.
	Repo *repoParts
	// Picker names what a picker lists (Owner, Entity); PickerURL is where
	// the page's script asks for the entities whose name starts with what
	// is typed (/create/picker with the picker's kinds).
	Picker, PickerURL string
}

// formOption is one choice of a select, radio group or picker.
type formOption struct {
	Value, Label string
	Selected     bool
}

// repoParts are the three inputs of a RepoUrlPicker: the host among the
// allowed ones, the owner and the repository's name.
type repoParts struct {
	Hosts                   []string
	Host, Owner, Repo       string
	HostID, OwnerID, RepoID string
}

// effectiveSchema is a page's properties and required names once its
// conditional parts (dependencies, if/then/else, allOf of those) are
// applied to the values.
type effectiveSchema struct {
	props    map[string]map[string]any
	required []string
	order    []string
}

// resolvePage applies a page schema's conditional parts to values.
func resolvePage(schema map[string]any, values map[string]any) effectiveSchema {
	es := effectiveSchema{props: map[string]map[string]any{}}
	var addProps func(s map[string]any)
	addProps = func(s map[string]any) {
		if props, ok := s["properties"].(map[string]any); ok {
			for k, v := range props {
				pm, _ := v.(map[string]any)
				if pm == nil {
					continue
				}
				if old, ok := es.props[k]; ok {
					// A conditional branch narrows a property it repeats
					// (enum: [x]): keep the base's title and widget.
					merged := map[string]any{}
					for kk, vv := range pm {
						merged[kk] = vv
					}
					for kk, vv := range old {
						merged[kk] = vv
					}
					pm = merged
				}
				es.props[k] = pm
			}
		}
		for _, r := range stringList(s["required"]) {
			if !slices.Contains(es.required, r) {
				es.required = append(es.required, r)
			}
		}
		// if / then / else: the condition holds when every property it
		// names matches (const or enum) the value.
		if cond, ok := s["if"].(map[string]any); ok {
			branch := "else"
			if matches(cond, values) {
				branch = "then"
			}
			if b, ok := s[branch].(map[string]any); ok {
				addProps(b)
			}
		}
		for _, sub := range anyList(s["allOf"]) {
			if m, ok := sub.(map[string]any); ok {
				addProps(m)
			}
		}
		// dependencies: a property's presence adds a schema, or the oneOf
		// branch whose enum holds its value.
		if deps, ok := s["dependencies"].(map[string]any); ok {
			keys := make([]string, 0, len(deps))
			for k := range deps {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				v, set := values[k]
				if !set || v == "" || v == nil {
					continue
				}
				switch d := deps[k].(type) {
				case []any: // property dependencies: names that become required
					for _, r := range stringList(d) {
						if !slices.Contains(es.required, r) {
							es.required = append(es.required, r)
						}
					}
				case map[string]any:
					branches := anyList(d["oneOf"])
					if len(branches) == 0 {
						addProps(d)
						continue
					}
					for _, b := range branches {
						bm, _ := b.(map[string]any)
						if bm != nil && matches(map[string]any{"properties": onlyProp(bm, k)}, values) {
							addProps(bm)
							break
						}
					}
				}
			}
		}
	}
	addProps(schema)
	es.order = orderOf(schema, es)
	return es
}

// onlyProp returns the properties of schema s that name k, for matching a
// oneOf branch on the property it depends on.
func onlyProp(s map[string]any, k string) map[string]any {
	props, _ := s["properties"].(map[string]any)
	if p, ok := props[k]; ok {
		return map[string]any{k: p}
	}
	return map[string]any{}
}

// matches reports whether values satisfy a condition schema's properties
// (const, enum, or presence when the property schema is empty) and its
// required names.
func matches(cond map[string]any, values map[string]any) bool {
	for _, r := range stringList(cond["required"]) {
		if v, ok := values[r]; !ok || v == "" || v == nil {
			return false
		}
	}
	props, _ := cond["properties"].(map[string]any)
	for k, p := range props {
		pm, _ := p.(map[string]any)
		v, ok := values[k]
		if c, has := pm["const"]; has {
			if !ok || fmt.Sprint(v) != fmt.Sprint(c) {
				return false
			}
		}
		if e, has := pm["enum"].([]any); has {
			if !ok || !slices.ContainsFunc(e, func(x any) bool { return fmt.Sprint(x) == fmt.Sprint(v) }) {
				return false
			}
		}
	}
	return true
}

// orderOf orders a page's properties: ui:order when the schema gives it
// ("*" stands for the rest), else the required ones in their order, then
// the others by name (the catalog keeps a body's keys sorted, so a
// template's own order is ui:order's to say).
func orderOf(schema map[string]any, es effectiveSchema) []string {
	names := make([]string, 0, len(es.props))
	for k := range es.props {
		names = append(names, k)
	}
	sort.Strings(names)
	rest := func(taken []string) []string {
		var out []string
		for _, n := range names {
			if !slices.Contains(taken, n) {
				out = append(out, n)
			}
		}
		return out
	}
	if uo := stringList(schema["ui:order"]); len(uo) > 0 {
		var out []string
		for _, n := range uo {
			if n == "*" {
				var later []string
				for _, m := range uo {
					if m != "*" {
						later = append(later, m)
					}
				}
				out = append(out, rest(append(later, out...))...)
				continue
			}
			if _, ok := es.props[n]; ok && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
		if !slices.Contains(uo, "*") {
			out = append(out, rest(out)...)
		}
		return out
	}
	var out []string
	for _, r := range es.required {
		if _, ok := es.props[r]; ok {
			out = append(out, r)
		}
	}
	return append(out, rest(out)...)
}

// fieldsOf draws a page's fields for the values (raw, as the form sent
// them) with the errors by property name. options lists a picker's
// entities.
func fieldsOf(es effectiveSchema, raw url.Values, values map[string]any, errs map[string]string, options func(picker string, opts map[string]any, value string) ([]formOption, string)) []formField {
	var out []formField
	for _, name := range es.order {
		p := es.props[name]
		if b, _ := p["ui:widget"].(string); b == "hidden" {
			continue
		}
		f := formField{
			Name: name, ID: "f-" + name, Label: strOf(p["title"]), Description: strOf(p["description"]),
			Help: strOf(p["ui:help"]), Placeholder: strOf(p["ui:placeholder"]), Type: strOf(p["type"]),
			Required: slices.Contains(es.required, name), Error: errs[name],
			Autofocus: p["ui:autofocus"] == true, Readonly: p["ui:readonly"] == true,
			Min: numStr(p["minimum"]), Max: numStr(p["maximum"]), Pattern: strOf(p["pattern"]),
		}
		if f.Label == "" {
			f.Label = name
		}
		if v, ok := values[name]; ok && v != nil {
			f.Value = valueText(v)
		} else if def, ok := p["default"]; ok && def != nil {
			// The template fills an empty field with its default: show it.
			f.Value = valueText(def)
		}
		uiField, _ := p["ui:field"].(string)
		widget, _ := p["ui:widget"].(string)
		opts, _ := p["ui:options"].(map[string]any)
		enum := anyList(p["enum"])
		switch {
		case uiField == "RepoUrlPicker":
			f.Widget = "repourl"
			rp := &repoParts{Hosts: stringList(opts["allowedHosts"]), HostID: f.ID + "-host", OwnerID: f.ID + "-owner", RepoID: f.ID + "-repo"}
			if h, o, r, ok := splitRepoURL(f.Value); ok {
				rp.Host, rp.Owner, rp.Repo = h, o, r
			}
			if rp.Host == "" && len(rp.Hosts) > 0 {
				rp.Host = rp.Hosts[0]
			}
			f.Repo = rp
		case uiField == "OwnerPicker" || uiField == "EntityPicker" || uiField == "OwnedEntityPicker":
			f.Widget, f.Picker = "picker", strings.TrimSuffix(uiField, "Picker")
			if options != nil {
				f.Options, f.PickerURL = options(uiField, opts, f.Value)
			}
		case f.Type == "boolean":
			f.Widget = "checkbox"
		case f.Type == "array":
			items, _ := p["items"].(map[string]any)
			f.Values = textList(values[name])
			if ie := anyList(items["enum"]); len(ie) > 0 {
				f.Widget = "checkboxes"
				f.Options = enumOptions(ie, items, f.Values)
			} else {
				f.Widget = "lines"
				f.Value = strings.Join(f.Values, "\n")
			}
		case len(enum) > 0:
			f.Widget = "select"
			if widget == "radio" {
				f.Widget = "radio"
			}
			f.Options = enumOptions(enum, p, []string{f.Value})
		case widget == "textarea" || widget == "password":
			f.Widget = widget
		case f.Type == "integer" || f.Type == "number":
			f.Widget = "number"
		default:
			f.Widget = "text"
		}
		out = append(out, f)
	}
	return out
}

// enumOptions are an enum's choices with their names (ui:enumNames or
// enumNames), those in chosen marked.
func enumOptions(enum []any, p map[string]any, chosen []string) []formOption {
	names := stringList(p["ui:enumNames"])
	if len(names) == 0 {
		names = stringList(p["enumNames"])
	}
	var out []formOption
	for i, e := range enum {
		v := fmt.Sprint(e)
		o := formOption{Value: v, Label: v, Selected: slices.Contains(chosen, v)}
		if i < len(names) {
			o.Label = names[i]
		}
		out = append(out, o)
	}
	return out
}

// typedValues turns the form's text into the values a template takes, by
// the type of each property any page (with its conditional parts) names: a
// number, a bool, a list, or text. An empty field is left out, so the
// schema's default and required apply. A RepoUrlPicker's three parts are
// joined into host?owner=O&repo=R.
func typedValues(pages []scaffolder.Page, raw url.Values) map[string]any {
	out := map[string]any{}
	// Twice: the first pass gives the values conditions read.
	for range 2 {
		for _, pg := range pages {
			es := resolvePage(pg.Schema, out)
			for name, p := range es.props {
				if v, ok := typedValue(name, p, raw); ok {
					out[name] = v
				} else {
					delete(out, name)
				}
			}
		}
	}
	return out
}

// typedValue reads one property from the form.
func typedValue(name string, p map[string]any, raw url.Values) (any, bool) {
	if strOf(p["ui:field"]) == "RepoUrlPicker" {
		if _, split := raw[name+".repo"]; split {
			host, owner, repo := strings.TrimSpace(raw.Get(name+".host")), strings.TrimSpace(raw.Get(name+".owner")), strings.TrimSpace(raw.Get(name+".repo"))
			if owner == "" && repo == "" {
				return nil, false
			}
			return host + "?owner=" + url.QueryEscape(owner) + "&repo=" + url.QueryEscape(repo), true
		}
	}
	switch strOf(p["type"]) {
	case "boolean":
		if _, ok := raw[name]; !ok {
			if _, drawn := raw["_bool."+name]; drawn {
				return false, true
			}
			return nil, false
		}
		v := raw.Get(name)
		return v == "true" || v == "on" || v == "1", true
	case "array":
		var items []any
		for _, v := range raw[name] {
			for _, line := range strings.Split(v, "\n") {
				if line = strings.TrimSpace(line); line != "" {
					items = append(items, line)
				}
			}
		}
		if items == nil {
			return nil, false
		}
		return items, true
	}
	v := strings.TrimSpace(raw.Get(name))
	if v == "" {
		return nil, false
	}
	switch strOf(p["type"]) {
	case "integer":
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n, true
		}
	case "number":
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			return n, true
		}
	}
	// Text that should be a number stays text: the schema names the field.
	return v, true
}

// fieldErrors sorts the errors of Parameters (or Create) by property: the
// first segment after "parameters." names it. Errors naming no property
// are returned apart.
func fieldErrors(err error) (byField map[string]string, other []string) {
	byField = map[string]string{}
	var walk func(e error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var pe *scaffolder.ParameterError
		if errors.As(e, &pe) {
			name := strings.TrimPrefix(pe.Field, "parameters")
			name = strings.TrimPrefix(name, ".")
			if i := strings.IndexAny(name, ".["); i >= 0 {
				name = name[:i]
			}
			if name != "" {
				if old := byField[name]; old != "" {
					byField[name] = old + "; " + pe.Problem
				} else {
					byField[name] = pe.Problem
				}
				return
			}
		}
		other = append(other, e.Error())
	}
	walk(err)
	return byField, other
}

// splitRepoURL reads host?owner=O&repo=R.
func splitRepoURL(v string) (host, owner, repo string, ok bool) {
	h, q, found := strings.Cut(v, "?")
	if !found {
		return "", "", "", false
	}
	vals, err := url.ParseQuery(q)
	if err != nil {
		return "", "", "", false
	}
	return h, vals.Get("owner"), vals.Get("repo"), true
}

// valueText is a value as a form shows it.
func valueText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		return strings.Join(textList(x), "\n")
	default:
		return fmt.Sprint(x)
	}
}

// textList is a list value as text items.
func textList(v any) []string {
	var out []string
	for _, x := range anyList(v) {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

func strOf(v any) string {
	s, _ := v.(string)
	return s
}

func numStr(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int, int64:
		return fmt.Sprint(x)
	}
	return ""
}

func anyList(v any) []any {
	l, _ := v.([]any)
	return l
}

func stringList(v any) []string {
	var out []string
	for _, x := range anyList(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
