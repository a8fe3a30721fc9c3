package catalog

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Backstage's format rules for names and keys (catalog-model's
// KubernetesValidatorFunctions and FieldFormatEntityPolicy).
var (
	objectNameRE = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	dnsLabelRE   = regexp.MustCompile(`^[a-z0-9]+(?:-+[a-z0-9]+)*$`)
	kindRE       = regexp.MustCompile(`^[a-zA-Z][a-z0-9A-Z]*$`)
	versionRE    = regexp.MustCompile(`^[a-z0-9A-Z]+$`)
	tagRE        = regexp.MustCompile(`^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$`)
)

// IsValidObjectName reports whether s is a valid metadata.name or label value:
// 1 to 63 characters, [a-zA-Z0-9] sequences separated by one of [-_.].
func IsValidObjectName(s string) bool {
	return len(s) >= 1 && len(s) <= 63 && objectNameRE.MatchString(s)
}

// IsValidNamespace reports whether s is a valid namespace: a DNS label of at most
// 63 lower-case characters.
func IsValidNamespace(s string) bool { return isDNSLabel(s) }

func isDNSLabel(s string) bool { return len(s) >= 1 && len(s) <= 63 && dnsLabelRE.MatchString(s) }

func isDNSSubdomain(s string) bool {
	if len(s) < 1 || len(s) > 253 {
		return false
	}
	for _, p := range strings.Split(s, ".") {
		if !isDNSLabel(p) {
			return false
		}
	}
	return true
}

// isPrefixAndOrSuffix checks "suffix" or "prefix<sep>suffix" forms.
func isPrefixAndOrSuffix(s, sep string, prefix, suffix func(string) bool) bool {
	parts := strings.Split(s, sep)
	switch len(parts) {
	case 1:
		return suffix(parts[0])
	case 2:
		return prefix(parts[0]) && suffix(parts[1])
	}
	return false
}

// IsValidKind reports whether s is a valid kind: a letter followed by letters and
// digits, at most 63 characters.
func IsValidKind(s string) bool { return len(s) >= 1 && len(s) <= 63 && kindRE.MatchString(s) }

// IsValidAPIVersion reports whether s is group/version or version.
func IsValidAPIVersion(s string) bool {
	return isPrefixAndOrSuffix(s, "/", isDNSSubdomain, func(v string) bool {
		return len(v) >= 1 && len(v) <= 63 && versionRE.MatchString(v)
	})
}

// IsValidLabelKey reports whether s is [prefix/]name with a DNS-subdomain prefix and
// an object-name name; annotation keys follow the same rule.
func IsValidLabelKey(s string) bool {
	return isPrefixAndOrSuffix(s, "/", isDNSSubdomain, IsValidObjectName)
}

// IsValidLabelValue reports whether s is empty or a valid object name.
func IsValidLabelValue(s string) bool { return s == "" || IsValidObjectName(s) }

// IsValidTag reports whether s is a valid tag: lower-case [a-z0-9:+#] sequences
// separated by '-', 1 to 63 characters.
func IsValidTag(s string) bool { return len(s) >= 1 && len(s) <= 63 && tagRE.MatchString(s) }

// validator collects field errors.
type validator struct{ errs []FieldError }

func (v *validator) add(field, format string, args ...any) {
	v.errs = append(v.errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// allowedRootFields are the root fields a descriptor may have, as Backstage's
// NoForeignRootFieldsEntityPolicy allows them: relations and status are the
// catalog's to compute, never a descriptor's to declare.
var allowedRootFields = map[string]bool{
	"apiVersion": true, "kind": true, "metadata": true, "spec": true,
}

// validateEnvelope applies the rules every entity follows, whatever its kind.
func (v *validator) validateEnvelope(body map[string]any) {
	var roots []string
	for k := range body {
		if !allowedRootFields[k] {
			roots = append(roots, k)
		}
	}
	sort.Strings(roots)
	for _, k := range roots {
		v.add(k, "unknown root field; a descriptor has only apiVersion, kind, metadata and spec")
	}

	switch av := body["apiVersion"].(type) {
	case nil:
		v.add("apiVersion", "is required")
	case string:
		if !IsValidAPIVersion(av) {
			v.add("apiVersion", "%q is not valid; expected group/version such as backstage.io/v1alpha1", av)
		}
	default:
		v.add("apiVersion", "must be a string")
	}
	switch k := body["kind"].(type) {
	case nil:
		v.add("kind", "is required")
	case string:
		if !IsValidKind(k) {
			v.add("kind", "%q is not valid; expected a letter followed by letters and digits, at most 63 characters", k)
		}
	default:
		v.add("kind", "must be a string")
	}

	md, ok := body["metadata"].(map[string]any)
	if !ok {
		if body["metadata"] == nil {
			v.add("metadata", "is required")
		} else {
			v.add("metadata", "must be an object")
		}
		return
	}
	switch n := md["name"].(type) {
	case nil:
		v.add("metadata.name", "is required")
	case string:
		if !IsValidObjectName(n) {
			v.add("metadata.name", "%q is not valid; expected a string that is sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total", n)
		}
	default:
		v.add("metadata.name", "must be a string")
	}
	if ns, present := md["namespace"]; present {
		s, ok := ns.(string)
		switch {
		case !ok:
			v.add("metadata.namespace", "must be a string")
		case !IsValidNamespace(s):
			v.add("metadata.namespace", "%q is not valid; expected a string that is sequences of [a-z0-9] separated by [-], at most 63 characters in total", s)
		}
	}
	for _, f := range []string{"title", "description", "uid", "etag"} {
		if val, present := md[f]; present {
			s, ok := val.(string)
			switch {
			case !ok:
				v.add("metadata."+f, "must be a string")
			case s == "" && f != "description":
				v.add("metadata."+f, "must not be empty")
			}
		}
	}
	v.validateStringMap(md, "labels", true)
	v.validateStringMap(md, "annotations", false)
	if tags, present := md["tags"]; present {
		arr, ok := tags.([]any)
		if !ok {
			v.add("metadata.tags", "must be a list of strings")
		}
		for i, t := range arr {
			s, ok := t.(string)
			switch {
			case !ok:
				v.add(fmt.Sprintf("metadata.tags[%d]", i), "must be a string")
			case !IsValidTag(s):
				v.add(fmt.Sprintf("metadata.tags[%d]", i), "%q is not valid; expected a string that is sequences of [a-z0-9+#] separated by [-], at most 63 characters in total", s)
			}
		}
	}
	if links, present := md["links"]; present {
		arr, ok := links.([]any)
		if !ok {
			v.add("metadata.links", "must be a list of objects with a url")
		}
		for i, l := range arr {
			lm, ok := l.(map[string]any)
			field := fmt.Sprintf("metadata.links[%d]", i)
			if !ok {
				v.add(field, "must be an object with a url")
				continue
			}
			switch u, ok := lm["url"].(string); {
			case !ok || u == "":
				v.add(field+".url", "is required and must be a non-empty string")
			case !IsValidURL(u):
				v.add(field+".url", "%q is not a valid absolute URL", u)
			}
			for _, f := range []string{"title", "icon", "type"} {
				if val, present := lm[f]; present {
					if s, ok := val.(string); !ok || s == "" {
						v.add(field+"."+f, "must be a non-empty string")
					}
				}
			}
		}
	}
}

func (v *validator) validateStringMap(md map[string]any, name string, labelValues bool) {
	raw, present := md[name]
	if !present {
		return
	}
	m, ok := raw.(map[string]any)
	if !ok {
		v.add("metadata."+name, "must be an object of strings")
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		field := "metadata." + name + "." + k
		if !IsValidLabelKey(k) {
			v.add(field, "key %q is not valid; expected [prefix/]name where prefix is a DNS subdomain and name is sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters", k)
		}
		s, ok := m[k].(string)
		if !ok {
			v.add(field, "value must be a string")
			continue
		}
		if labelValues && !IsValidLabelValue(s) {
			v.add(field, "value %q is not valid; expected an empty string or sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters", s)
		}
	}
}

// validateSpec applies the kind's spec rules. A field set to null is present
// with the wrong type, as in Backstage's JSON schemas, not absent.
func (v *validator) validateSpec(kind *KindSpec, body map[string]any) {
	rawSpec, present := body["spec"]
	if !present {
		if kind.SpecRequired {
			v.add("spec", "is required for kind %s", kind.Kind)
		}
		return
	}
	spec, ok := rawSpec.(map[string]any)
	if !ok {
		v.add("spec", "must be an object")
		return
	}
	v.validateFields("spec", " for kind "+kind.Kind, spec, kind.Fields)
}

// validateFields checks the fields of obj, found at path, against rules;
// forKind ends the message of a missing required field.
func (v *validator) validateFields(path, forKind string, obj map[string]any, rules []SpecField) {
	for _, f := range rules {
		if f.When != nil && !f.When(obj) {
			continue
		}
		val, present := obj[f.Name]
		field := path + "." + f.Name
		if !present {
			if f.Required {
				v.add(field, "is required%s", forKind)
			}
			continue
		}
		v.validateValue(field, f, val)
	}
}

// validateValue checks one present value against its field's rule.
func (v *validator) validateValue(field string, f SpecField, val any) {
	switch f.Type {
	case FieldString:
		s, ok := val.(string)
		switch {
		case !ok:
			v.add(field, "must be a string")
		case s == "" && !f.AllowEmpty:
			v.add(field, "must not be empty")
		case len(f.Enum) > 0 && !slices.Contains(f.Enum, s):
			v.add(field, "%q is not one of %s", s, strings.Join(f.Enum, ", "))
		}
	case FieldStringOrBool:
		switch val.(type) {
		case string, bool:
		default:
			v.add(field, "must be a string or a boolean")
		}
	case FieldStringList:
		arr, ok := val.([]any)
		if !ok {
			v.add(field, "must be a list of strings")
			return
		}
		v.minItems(field, f, arr)
		for i, item := range arr {
			if s, ok := item.(string); !ok || s == "" {
				v.add(fmt.Sprintf("%s[%d]", field, i), "must be a non-empty string")
			}
		}
	case FieldList:
		arr, ok := val.([]any)
		if !ok {
			v.add(field, "must be a list")
			return
		}
		v.minItems(field, f, arr)
	case FieldObject:
		m, ok := val.(map[string]any)
		if !ok {
			v.add(field, "must be an object")
			return
		}
		v.validateFields(field, "", m, f.Properties)
	case FieldObjectList:
		arr, ok := val.([]any)
		if !ok {
			v.add(field, "must be a list of objects")
			return
		}
		v.minItems(field, f, arr)
		v.validateItems(field, f, arr)
	case FieldObjectOrList:
		switch x := val.(type) {
		case map[string]any:
			v.validateFields(field, "", x, f.Properties)
		case []any:
			v.validateItems(field, f, x)
		default:
			v.add(field, "must be an object or a list of objects")
		}
	}
}

func (v *validator) minItems(field string, f SpecField, arr []any) {
	if len(arr) < f.MinItems {
		v.add(field, "must hold at least %d item(s)", f.MinItems)
	}
}

// validateItems checks that every item of a list is an object that follows
// the field's Properties.
func (v *validator) validateItems(field string, f SpecField, arr []any) {
	for i, item := range arr {
		itemField := fmt.Sprintf("%s[%d]", field, i)
		m, ok := item.(map[string]any)
		if !ok {
			v.add(itemField, "must be an object")
			continue
		}
		v.validateFields(itemField, "", m, f.Properties)
	}
}
