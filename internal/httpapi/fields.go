package httpapi

import (
	"bytes"
	"encoding/json"
	"strings"

	"backlot.dev/backlot/projections/catalogstore"
)

// projection keeps only the requested dotted paths of an entity, preserving their
// nesting. A path segment may itself contain dots (metadata.annotations.
// backstage.io/techdocs-ref): at each level the shortest run of segments that
// names an existing key is taken.
type projection struct {
	fields []string
}

// newProjection returns nil when fields is empty: the whole entity is kept.
func newProjection(fields []string) *projection {
	if len(fields) == 0 {
		return nil
	}
	return &projection{fields: fields}
}

// pathNode is a trie of the key paths kept from one entity.
type pathNode struct {
	whole    bool
	children map[string]*pathNode
}

func (n *pathNode) insert(path []string) {
	cur := n
	for _, k := range path {
		if cur.whole {
			return
		}
		if cur.children == nil {
			cur.children = map[string]*pathNode{}
		}
		next := cur.children[k]
		if next == nil {
			next = &pathNode{}
			cur.children[k] = next
		}
		cur = next
	}
	cur.whole, cur.children = true, nil
}

// resolve finds the key path that field names in v, or nil.
func resolve(v any, parts []string) []string {
	var path []string
	for len(parts) > 0 {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		found := false
		for j := 1; j <= len(parts); j++ {
			key := strings.Join(parts[:j], ".")
			if child, ok := m[key]; ok {
				path = append(path, key)
				v, parts, found = child, parts[j:], true
				break
			}
		}
		if !found {
			return nil
		}
	}
	return path
}

// copyPaths copies the parts of v the trie names.
func copyPaths(v any, n *pathNode) any {
	if n.whole {
		return v
	}
	m := v.(map[string]any)
	out := make(map[string]any, len(n.children))
	for k, child := range n.children {
		out[k] = copyPaths(m[k], child)
	}
	return out
}

// apply returns the projected entity.
func (p *projection) apply(entity map[string]any) map[string]any {
	root := &pathNode{}
	for _, f := range p.fields {
		if path := resolve(entity, strings.Split(f, ".")); path != nil {
			root.insert(path)
		}
	}
	if root.children == nil {
		return map[string]any{}
	}
	return copyPaths(entity, root).(map[string]any)
}

// renderEntity renders an entity as the API returns it, projected when p is set.
func renderEntity(v *catalogstore.EntityView, p *projection) (json.RawMessage, error) {
	raw, err := json.Marshal(v)
	if err != nil || p == nil {
		return raw, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return json.Marshal(p.apply(m))
}
