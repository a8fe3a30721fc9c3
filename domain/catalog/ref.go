package catalog

import (
	"fmt"
	"strings"
)

// DefaultNamespace is the namespace of an entity that names none.
const DefaultNamespace = "default"

// Ref identifies an entity by kind, namespace and name. Refs compare
// case-insensitively: use Key for identity and String for display.
type Ref struct {
	Kind      string
	Namespace string
	Name      string
}

// RefDefaults are the kind and namespace a short reference falls back to.
type RefDefaults struct {
	// Kind is used when the reference has no "kind:" prefix; empty means the
	// reference must name its kind.
	Kind string
	// Namespace is used when the reference has no "namespace/" part; empty means
	// DefaultNamespace.
	Namespace string
}

// ParseRef parses a reference of the form [kind:][namespace/]name, filling missing
// parts from defaults, and splits it as Backstage's parseEntityRef does: the
// kind ends at the first ':' unless a '/' comes before it, the namespace ends
// at the first '/', and the name is the rest, so it may itself hold ':' or '/'
// ("a:b:c" is kind a, name "b:c"; "default/a:b" is namespace default, name
// "a:b"). It fails when a part is empty or the kind is missing with no default.
func ParseRef(s string, defaults RefDefaults) (Ref, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Ref{}, fmt.Errorf("entity reference is empty")
	}
	colon := strings.IndexByte(s, ':')
	slash := strings.IndexByte(s, '/')
	if slash >= 0 && slash < colon {
		colon = -1
	}
	var r Ref
	if colon >= 0 {
		r.Kind = s[:colon]
		if r.Kind == "" {
			return Ref{}, fmt.Errorf("entity reference %q has an empty kind", s)
		}
	} else {
		r.Kind = defaults.Kind
		if r.Kind == "" {
			return Ref{}, fmt.Errorf("entity reference %q had missing or empty kind (e.g. did not start with \"component:\" or similar)", s)
		}
	}
	if slash >= 0 {
		r.Namespace = s[colon+1 : slash]
		r.Name = s[slash+1:]
		if r.Namespace == "" {
			return Ref{}, fmt.Errorf("entity reference %q has an empty namespace", s)
		}
	} else {
		r.Namespace = defaults.Namespace
		r.Name = s[colon+1:]
	}
	if r.Namespace == "" {
		r.Namespace = DefaultNamespace
	}
	if r.Name == "" {
		return Ref{}, fmt.Errorf("entity reference %q has an empty name", s)
	}
	return r, nil
}

// String returns kind:namespace/name with kind and namespace in lower case and the
// name as written, the form Backstage uses for relation targets.
func (r Ref) String() string { return r.format(false) }

// format writes kind:namespace/name with kind and namespace in lower case, and the
// name too when lowerName is set.
func (r Ref) format(lowerName bool) string {
	var b strings.Builder
	b.Grow(len(r.Kind) + len(r.Namespace) + len(r.Name) + 2)
	writeLower(&b, r.Kind)
	b.WriteByte(':')
	writeLower(&b, r.Namespace)
	b.WriteByte('/')
	if lowerName {
		writeLower(&b, r.Name)
	} else {
		b.WriteString(r.Name)
	}
	return b.String()
}

// writeLower writes s in lower case, without allocating for ASCII input.
func writeLower(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			b.WriteString(strings.ToLower(s[i:]))
			return
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
}

// Key returns the reference in full lower case: the identity used for storage,
// comparison and event subjects.
func (r Ref) Key() string { return r.format(true) }

// IsZero reports whether r is the zero Ref.
func (r Ref) IsZero() bool { return r == Ref{} }

// Equal reports whether r and o name the same entity, ignoring case.
func (r Ref) Equal(o Ref) bool { return r.Key() == o.Key() }
