package catalog

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Kinds is the set of kinds a catalog accepts. Every Kinds accepts
// Backstage's built-in kinds (API, Component, Domain, Group, Location,
// Resource, System, User and the scaffolder's Template) and Backlot's Policy,
// as Backstage's catalog accepts its built-in kinds and those of the plugins
// installed. The extra kinds a Kinds is made with add, each:
//   - an optional kind whose schema Backstage publishes (AiResource,
//     Environment), validated by that schema;
//   - "API:<type>" for a remote API type (API:mcp-server,
//     API:ai-model-server), whose API has remotes instead of a definition;
//   - any other kind name, a custom kind as a plugin would register: its
//     envelope and metadata are validated, its spec need only be an object.
//
// The nil *Kinds is the built-in set. A Kinds is immutable and safe for
// concurrent use.
type Kinds struct {
	// extra maps a lower-case kind name to its rules.
	extra map[string]*KindSpec
	// remoteTypes are the remote API types accepted.
	remoteTypes []string
	// names are the extra names as given, sorted.
	names []string
}

// NewKinds returns the set of the built-in kinds and the extra ones. It fails
// on a name that is not a valid kind, that differs only in case from a known
// kind, or that names an unknown API type.
func NewKinds(extra []string) (*Kinds, error) {
	k := &Kinds{extra: map[string]*KindSpec{}}
	for _, raw := range extra {
		name := strings.TrimSpace(raw)
		if name == "" {
			continue
		}
		if kind, typ, ok := strings.Cut(name, ":"); ok {
			if kind != "API" || !slices.Contains(remoteAPITypes, typ) {
				return nil, fmt.Errorf("extra kind %q: expected a kind name, or API:<type> for one of %s", name, strings.Join(OptionalKindNames(), ", "))
			}
			if !slices.Contains(k.remoteTypes, typ) {
				k.remoteTypes = append(k.remoteTypes, typ)
			}
		} else {
			if !IsValidKind(name) {
				return nil, fmt.Errorf("extra kind %q is not valid; expected a letter followed by letters and digits, at most 63 characters", name)
			}
			spec, known := LookupKind(name)
			switch {
			case known && spec.Kind != name:
				return nil, fmt.Errorf("extra kind %q: kinds are case-sensitive, did you mean %s?", name, spec.Kind)
			case known && !spec.Optional:
				// A built-in kind: accepted anyway.
			case known:
				k.extra[strings.ToLower(name)] = spec
			default:
				k.extra[strings.ToLower(name)] = &KindSpec{Kind: name, AnyVersion: true}
			}
		}
		if !slices.Contains(k.names, name) {
			k.names = append(k.names, name)
		}
	}
	sort.Strings(k.names)
	return k, nil
}

// Extra returns the extra kinds the set was made with, sorted; nil for the
// built-in set.
func (k *Kinds) Extra() []string {
	if k == nil {
		return nil
	}
	return slices.Clone(k.names)
}

// lookup returns the rules the set applies to an entity of the kind (matched
// case-insensitively) with the given spec.
func (k *Kinds) lookup(kind string, body map[string]any) (*KindSpec, bool) {
	lower := strings.ToLower(kind)
	if spec, ok := kindsByName[lower]; ok && !spec.Optional {
		if spec.Kind == "API" && k != nil && len(k.remoteTypes) > 0 {
			s, _ := body["spec"].(map[string]any)
			if t, _ := s["type"].(string); slices.Contains(k.remoteTypes, t) {
				return &remoteAPI, true
			}
		}
		return spec, true
	}
	if k == nil {
		return nil, false
	}
	spec, ok := k.extra[lower]
	return spec, ok
}

// unknownKindMessage says why kind is refused and, for an optional kind, how
// a catalog accepts it.
func (k *Kinds) unknownKindMessage(kind string) string {
	accepted := append(KindNames(), k.Extra()...)
	sort.Strings(accepted)
	msg := fmt.Sprintf("unknown kind %q; this catalog accepts %s", kind, strings.Join(accepted, ", "))
	if spec, ok := LookupKind(kind); ok && spec.Optional {
		msg += fmt.Sprintf("; %s is an optional kind, accepted when the catalog's extra kinds name it", spec.Kind)
	}
	return msg
}
