package scaffolder

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"backlot.dev/backlot/policies"
)

// Viewer is who fills a template's form: what decides the pages and
// fields Backstage's form shows (backstage:featureFlag, backstage:memberOf).
type Viewer struct {
	// Ref is the user's entity ref (user:default/ada).
	Ref string
	// Groups are the refs of the groups the user is a member of
	// (group:default/team-a).
	Groups []string
	// FeatureFlags are the feature flags turned on for the user.
	FeatureFlags []string
}

// sees reports whether a page or a property schema is shown to v: its
// backstage:featureFlag is on, and v is (or is a member of) one of its
// backstage:memberOf refs.
func (v Viewer) sees(schema map[string]any) bool {
	if flag, ok := schema["backstage:featureFlag"].(string); ok && !slices.Contains(v.FeatureFlags, flag) {
		return false
	}
	var refs []string
	switch m := schema["backstage:memberOf"].(type) {
	case string:
		refs = []string{m}
	case []any:
		for _, r := range m {
			if s, ok := r.(string); ok {
				refs = append(refs, s)
			}
		}
	case nil:
		return true
	}
	for _, r := range refs {
		r = normalizeRef(r, "group")
		if r == normalizeRef(v.Ref, "user") {
			return true
		}
		for _, g := range v.Groups {
			if r == normalizeRef(g, "group") {
				return true
			}
		}
	}
	return false
}

// normalizeRef completes a ref with the default kind and namespace, lower case.
func normalizeRef(ref, kind string) string {
	ref = strings.ToLower(ref)
	if !strings.Contains(ref, ":") {
		ref = kind + ":" + ref
	}
	if !strings.Contains(ref, "/") {
		k, n, _ := strings.Cut(ref, ":")
		ref = k + ":default/" + n
	}
	return ref
}

// Parameters checks values as Backstage's form and scaffolder do, for a
// viewer who sees every page without a feature flag or a group condition;
// see ParametersFor.
func (t *Template) Parameters(values map[string]any) (map[string]any, error) {
	return t.ParametersFor(values, Viewer{})
}

// ParametersFor checks values against the pages v sees and returns them
// with the defaults of the visible fields filled in. A page or field is
// visible when v sees it (backstage:featureFlag, backstage:memberOf) and
// its when (a ${{ }} expression over the parameters, as Backstage's form
// reads it) is true; a field is visible when its page is and, for a field of a conditional part of its page (dependencies, if/then/else,
// oneOf, anyOf, allOf), when its condition holds for the values. Only what
// is visible is validated and kept: a hidden page is not validated, and the
// values of hidden fields are dropped (values no page declares are kept, as
// Backstage keeps them). The ui:options that change what is valid are
// checked too (see checkUIOptions). Every problem comes back as a
// *ParameterError naming the field, joined.
func (t *Template) ParametersFor(values map[string]any, v Viewer) (map[string]any, error) {
	out := make(map[string]any, len(values))
	for k, x := range values {
		out[k] = x
	}
	declared, visible := map[string]bool{}, map[string]map[string]any{}
	type page struct {
		i      int
		schema map[string]any
	}
	var shown []page
	for i, p := range t.Pages {
		for name := range declaredProperties(p.Schema) {
			declared[name] = true
		}
		if !v.sees(p.Schema) {
			continue
		}
		on, err := t.pageShown(i, p.Schema, out)
		if err != nil {
			return nil, err
		}
		if !on {
			continue
		}
		schema := withoutUnseen(p.Schema, v)
		shown = append(shown, page{i, schema})
		// Defaults first, so a condition on a defaulted field holds.
		for pass := 0; pass < 2; pass++ {
			vis, err := t.visibleProperties(i, schema, out)
			if err != nil {
				return nil, err
			}
			for name, prop := range vis {
				visible[name] = prop
				if _, set := out[name]; !set {
					if d, ok := prop["default"]; ok {
						out[name] = d
					}
				}
			}
		}
	}
	for name := range declared {
		if _, ok := visible[name]; !ok {
			delete(out, name)
		}
	}
	doc, err := jsonDoc(out)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, p := range shown {
		s, err := compilePage(fmt.Sprintf("urn:backlot:template:%s:page:%d", t.Ref, p.i), p.schema)
		if err != nil {
			return nil, &TemplateError{Template: t.Ref, Field: fmt.Sprintf("spec.parameters[%d]", p.i), Problem: err.Error()}
		}
		var ve *jsonschema.ValidationError
		if err := s.Validate(doc); errors.As(err, &ve) {
			errs = append(errs, flatten(ve)...)
		} else if err != nil {
			return nil, err
		}
	}
	errs = append(errs, checkUIOptions(visible, out)...)
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return out, errors.Join(errs...)
}

// declaredProperties are the names of the properties a page declares
// anywhere at its top: its properties and those of its conditional parts.
func declaredProperties(schema map[string]any) map[string]bool {
	out := map[string]bool{}
	var walk func(s map[string]any)
	walk = func(s map[string]any) {
		if s == nil {
			return
		}
		props, _ := s["properties"].(map[string]any)
		for name := range props {
			out[name] = true
		}
		for _, k := range []string{"then", "else"} {
			sub, _ := s[k].(map[string]any)
			walk(sub)
		}
		for _, k := range []string{"oneOf", "anyOf", "allOf"} {
			list, _ := s[k].([]any)
			for _, e := range list {
				sub, _ := e.(map[string]any)
				walk(sub)
			}
		}
		deps, _ := s["dependencies"].(map[string]any)
		for _, d := range deps {
			sub, _ := d.(map[string]any)
			walk(sub)
		}
	}
	walk(schema)
	return out
}

// withoutUnseen returns a copy of a page schema without the properties v
// does not see, in its properties and its required list.
func withoutUnseen(schema map[string]any, v Viewer) map[string]any {
	props, _ := schema["properties"].(map[string]any)
	var hidden []string
	for name, p := range props {
		if pm, ok := p.(map[string]any); ok && !v.sees(pm) {
			hidden = append(hidden, name)
		}
	}
	if len(hidden) == 0 {
		return schema
	}
	out := make(map[string]any, len(schema))
	for k, x := range schema {
		out[k] = x
	}
	np := make(map[string]any, len(props))
	for name, p := range props {
		if !slices.Contains(hidden, name) {
			np[name] = p
		}
	}
	out["properties"] = np
	if req, ok := schema["required"].([]any); ok {
		var nr []any
		for _, r := range req {
			if s, _ := r.(string); !slices.Contains(hidden, s) {
				nr = append(nr, r)
			}
		}
		out["required"] = nr
	}
	return out
}

// visibleProperties returns the properties of a page schema visible with
// values: its own, those of each dependency whose field has a value (of the
// first oneOf branch the values satisfy), of then or else as its if holds,
// of the first oneOf (and every anyOf) branch the values satisfy, and of
// every allOf part.
func (t *Template) visibleProperties(page int, schema map[string]any, values map[string]any) (map[string]map[string]any, error) {
	out := map[string]map[string]any{}
	doc, err := jsonDoc(values)
	if err != nil {
		return nil, err
	}
	n := 0
	holds := func(s map[string]any) (bool, error) {
		n++
		c, err := compilePage(fmt.Sprintf("urn:backlot:template:%s:page:%d:condition:%d", t.Ref, page, n), s)
		if err != nil {
			return false, &TemplateError{Template: t.Ref, Field: fmt.Sprintf("spec.parameters[%d]", page), Problem: err.Error()}
		}
		return c.Validate(doc) == nil, nil
	}
	var walk func(s map[string]any) error
	walk = func(s map[string]any) error {
		if s == nil {
			return nil
		}
		props, _ := s["properties"].(map[string]any)
		for name, p := range props {
			pm, _ := p.(map[string]any)
			if pm == nil {
				pm = map[string]any{}
			}
			if prev, ok := out[name]; ok {
				merged := make(map[string]any, len(prev)+len(pm))
				for k, x := range prev {
					merged[k] = x
				}
				for k, x := range pm {
					merged[k] = x
				}
				pm = merged
			}
			out[name] = pm
		}
		if cond, ok := s["if"].(map[string]any); ok {
			ok, err := holds(cond)
			if err != nil {
				return err
			}
			branch := "else"
			if ok {
				branch = "then"
			}
			sub, _ := s[branch].(map[string]any)
			if err := walk(sub); err != nil {
				return err
			}
		}
		for _, k := range []string{"oneOf", "anyOf"} {
			list, _ := s[k].([]any)
			for _, e := range list {
				sub, _ := e.(map[string]any)
				// A branch is chosen by its fields' values, as the form
				// chooses it, not by what it requires.
				ok, err := holds(withoutKey(sub, "required"))
				if err != nil {
					return err
				}
				if ok {
					if err := walk(sub); err != nil {
						return err
					}
					if k == "oneOf" {
						break
					}
				}
			}
		}
		if list, ok := s["allOf"].([]any); ok {
			for _, e := range list {
				sub, _ := e.(map[string]any)
				if err := walk(sub); err != nil {
					return err
				}
			}
		}
		deps, _ := s["dependencies"].(map[string]any)
		for field, d := range deps {
			if _, set := values[field]; !set {
				continue
			}
			sub, _ := d.(map[string]any)
			if err := walk(withoutKey(sub, "oneOf")); err != nil {
				return err
			}
			// The form shows the oneOf branch whose schema of the field
			// itself accepts the field's value.
			list, _ := sub["oneOf"].([]any)
			for _, e := range list {
				branch, _ := e.(map[string]any)
				props, _ := branch["properties"].(map[string]any)
				own, ok := props[field]
				if !ok {
					continue
				}
				ok, err := holds(map[string]any{"properties": map[string]any{field: own}})
				if err != nil {
					return err
				}
				if ok {
					if err := walk(branch); err != nil {
						return err
					}
					break
				}
			}
		}
		return nil
	}
	return out, walk(schema)
}

// entityName is what Backstage's EntityNamePicker accepts: the Kubernetes
// object name rule of the catalog.
var entityName = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)

// checkUIOptions checks what Backstage's form fields check beyond the JSON
// Schema, for the visible fields with values:
//
//	ui:field EntityNamePicker  a valid entity name (at most 63 characters)
//	ui:field RepoUrlPicker     a repository location (host?owner=O&repo=R);
//	                           ui:options allowedHosts, allowedOwners,
//	                           allowedOrganizations, allowedProjects and
//	                           allowedRepos limit its parts
//	ui:field OwnerPicker, EntityPicker with ui:options allowArbitraryValues
//	                           false: a ref, not free text
func checkUIOptions(visible map[string]map[string]any, values map[string]any) []error {
	var errs []error
	names := make([]string, 0, len(visible))
	for name := range visible {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		prop := visible[name]
		field := "parameters." + name
		opts, _ := prop["ui:options"].(map[string]any)
		uiField, _ := prop["ui:field"].(string)
		v, isString := values[name].(string)
		if !isString || v == "" {
			continue
		}
		switch uiField {
		case "EntityNamePicker":
			if len(v) > 63 || !entityName.MatchString(v) {
				errs = append(errs, &ParameterError{Field: field, Problem: fmt.Sprintf("%q is not a valid entity name: letters, digits, -, _ and . between letters or digits, at most 63 characters", v)})
			}
		case "OwnerPicker", "EntityPicker", "MyGroupsPicker":
			if arb, ok := opts["allowArbitraryValues"].(bool); ok && !arb && strings.ContainsAny(v, " \t") {
				errs = append(errs, &ParameterError{Field: field, Problem: fmt.Sprintf("%q is not an entity ref", v)})
			}
		}
		if _, limited := opts["allowedHosts"]; !limited && uiField != "RepoUrlPicker" {
			continue
		}
		loc, err := policies.ParseRepoURL(v)
		if err != nil {
			errs = append(errs, &ParameterError{Field: field, Problem: err.Error()})
			continue
		}
		for _, part := range []struct{ option, key, what string }{
			{"allowedHosts", "host", "host"}, {"allowedOwners", "owner", "owner"},
			{"allowedOrganizations", "organization", "organization"}, {"allowedProjects", "project", "project"},
			{"allowedRepos", "repo", "repository"},
		} {
			list, ok := opts[part.option].([]any)
			if !ok {
				continue
			}
			var allowed []string
			for _, h := range list {
				if s, ok := h.(string); ok {
					allowed = append(allowed, s)
				}
			}
			got, _ := loc[part.key].(string)
			if part.key != "host" && got == "" {
				continue
			}
			if !slices.Contains(allowed, got) {
				errs = append(errs, &ParameterError{Field: field,
					Problem: fmt.Sprintf("%s %q is not allowed; the template allows %s", part.what, got, strings.Join(allowed, ", "))})
			}
		}
	}
	return errs
}

// withoutKey returns a copy of schema without key (schema itself when it
// has no such key).
func withoutKey(schema map[string]any, key string) map[string]any {
	if _, ok := schema[key]; !ok {
		return schema
	}
	out := make(map[string]any, len(schema))
	for k, x := range schema {
		if k != key {
			out[k] = x
		}
	}
	return out
}

// pageShown reports whether a page's when holds: true without one, the
// JavaScript truth of its rendered value (over parameters: the values
// given, with the defaults of the pages shown before it) with one. Backstage's form
// shows a page only when its when holds, and leaves a hidden page's fields
// out of what it sends.
func (t *Template) pageShown(page int, schema map[string]any, values map[string]any) (bool, error) {
	when, ok := schema["when"]
	if !ok {
		return true, nil
	}
	v, err := Render(fmt.Sprintf("spec.parameters[%d].when", page), when, map[string]any{"parameters": values})
	if err != nil {
		return false, &TemplateError{Template: t.Ref, Field: fmt.Sprintf("spec.parameters[%d].when", page), Problem: err.Error()}
	}
	return truthy(v), nil
}
