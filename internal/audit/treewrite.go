package audit

import (
	"strings"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/projections/catalogstore"
)

// This file writes an entity's file from its body's jsonTree: the stored
// body (catalogstore.StoredBody: the body without relations and status, its
// namespace filled in, metadata.uid and metadata.etag set) with its
// relations put in, byte for byte as the map-based writer (and so yaml.v3)
// writes it, and reads the relations the body declares. What it does not
// follow makes it report false, and the caller takes the map-based path.

// treeValue writes node i of t after a key's colon (inSeq false) or an
// item's dash, in a collection indented by ind, as value does for the
// decoded value, and ends the line.
func (w *yamlWriter) treeValue(t *jsonTree, i int32, ind int, inSeq bool) bool {
	n := &t.nodes[i]
	switch n.typ {
	case nodeObject, nodeArray:
		if n.n == 0 {
			if n.typ == nodeObject {
				w.buf = append(w.buf, " {}\n"...)
			} else {
				w.buf = append(w.buf, " []\n"...)
			}
			return true
		}
		next, inline := indentAfter(ind), false
		if inSeq {
			next, inline = ind+2, true
			w.buf = append(w.buf, ' ')
		} else {
			w.buf = append(w.buf, '\n')
		}
		if n.typ == nodeObject {
			return w.treeMapping(t, t.children(i), next, inline)
		}
		for j, k := range t.children(i) {
			if j > 0 || !inline {
				w.indent(next)
			}
			w.buf = append(w.buf, '-')
			if !w.treeValue(t, k, next, true) {
				return false
			}
		}
		return true
	case nodeString:
		w.buf = append(w.buf, ' ')
		switch {
		case plainScalar(n.str): // one line, written as it is
			w.buf = append(w.buf, n.str...)
		case strings.IndexByte(n.str, '\n') >= 0:
			scalarIndent := indentAfter(ind)
			if inSeq {
				scalarIndent = ind + 2
			}
			return w.literal(n.str, scalarIndent)
		case !w.quoted(n.str):
			return false
		}
	case nodeNumber:
		w.buf = append(w.buf, ' ')
		w.buf = appendYAMLFloat(w.buf, n.num)
	case nodeTrue:
		w.buf = append(w.buf, " true"...)
	case nodeFalse:
		w.buf = append(w.buf, " false"...)
	case nodeNull:
		w.buf = append(w.buf, " null"...)
	default:
		return false
	}
	w.buf = append(w.buf, '\n')
	return true
}

// treeMapping writes the members of an object at indentation ind; inline
// means the first starts where the writer stands.
func (w *yamlWriter) treeMapping(t *jsonTree, members []int32, ind int, inline bool) bool {
	for j, k := range members {
		if j > 0 || !inline {
			w.indent(ind)
		}
		if !w.key(t.nodes[k].key) {
			return false
		}
		w.buf = append(w.buf, ':')
		if !w.treeValue(t, k, ind, false) {
			return false
		}
	}
	return true
}

// strEntry writes a mapping entry of a string value at indentation ind.
func (w *yamlWriter) strEntry(k, v string, ind int) bool {
	w.indent(ind)
	if !w.key(k) {
		return false
	}
	w.buf = append(w.buf, ':', ' ')
	switch {
	case plainScalar(v):
		w.buf = append(w.buf, v...)
	case strings.IndexByte(v, '\n') >= 0:
		return w.literal(v, indentAfter(ind))
	case !w.quoted(v):
		return false
	}
	w.buf = append(w.buf, '\n')
	return true
}

// relationsEntry writes the "relations" entry of a top-level mapping.
func (w *yamlWriter) relationsEntry(rels []catalogstore.Relation) bool {
	if len(rels) == 0 {
		w.buf = append(w.buf, "relations: []\n"...)
		return true
	}
	w.buf = append(w.buf, "relations:\n"...)
	for _, rel := range rels {
		w.buf = append(w.buf, "    - targetRef: "...)
		if !w.oneLine(rel.TargetRef) {
			return false
		}
		w.buf = append(w.buf, "\n      type: "...)
		if !w.oneLine(rel.Type) {
			return false
		}
		w.buf = append(w.buf, '\n')
	}
	return true
}

// oneLine writes a string value that is not a literal block: false for one
// of several lines.
func (w *yamlWriter) oneLine(s string) bool {
	if plainScalar(s) {
		w.buf = append(w.buf, s...)
		return true
	}
	return strings.IndexByte(s, '\n') < 0 && w.quoted(s)
}

// storedFields are what a stored body's metadata gets besides the body's
// (catalogstore.StoredBody's rule, which the tests hold this writer to):
// its namespace (when the body's is not a string that names one), uid and
// etag.
type storedFields struct {
	namespace, uid, etag string
}

// treeFile writes the file of an entity from its body's tree: the stored
// body with its relations (sorted) put in, as mapFile does for the decoded
// stored body. md is the body's metadata node.
func (w *yamlWriter) treeFile(t *jsonTree, md int32, f storedFields, rels []catalogstore.Relation) bool {
	relDone := false
	for _, k := range t.children(0) {
		n := &t.nodes[k]
		if n.key == "relations" || n.key == "status" {
			continue
		}
		if !relDone && keyLess("relations", n.key) {
			if !w.relationsEntry(rels) {
				return false
			}
			relDone = true
		}
		if k != md {
			if !w.key(n.key) {
				return false
			}
			w.buf = append(w.buf, ':')
			if !w.treeValue(t, k, 0, false) {
				return false
			}
			continue
		}
		w.buf = append(w.buf, "metadata:\n"...)
		if !w.treeMetadata(t, md, f) {
			return false
		}
	}
	if !relDone {
		return w.relationsEntry(rels)
	}
	return true
}

// treeMetadata writes the members of the metadata object md, at indentation
// 4, with the stored fields put in their places (replacing the body's).
func (w *yamlWriter) treeMetadata(t *jsonTree, md int32, f storedFields) bool {
	extra := [3][2]string{{"etag", f.etag}, {"uid", f.uid}, {"namespace", f.namespace}}
	set := extra[:2]
	if f.namespace != "" {
		set = extra[:3]
	}
	// The stored fields in yaml.v3's order: etag, namespace, uid.
	if len(set) == 3 {
		set[1], set[2] = set[2], set[1]
	}
	next := 0
	for _, k := range t.children(md) {
		key := t.nodes[k].key
		if key == "uid" || key == "etag" || key == "namespace" && f.namespace != "" {
			continue
		}
		for next < len(set) && keyLess(set[next][0], key) {
			if !w.strEntry(set[next][0], set[next][1], 4) {
				return false
			}
			next++
		}
		w.indent(4)
		if !w.key(key) {
			return false
		}
		w.buf = append(w.buf, ':')
		if !w.treeValue(t, k, 4, false) {
			return false
		}
	}
	for ; next < len(set); next++ {
		if !w.strEntry(set[next][0], set[next][1], 4) {
			return false
		}
	}
	return true
}

// treeRef reads an entity's ref from its body's tree as catalog.LoadEntity
// does (kind, metadata.name, and metadata.namespace or the default one), and
// the metadata node. namespace is the one its stored body gets when the
// body's own does not stay (it is not a string that names one), else empty.
// It reports false when the body lacks a string kind or metadata name; the
// caller then decodes it whole.
func treeRef(t *jsonTree) (ref catalog.Ref, md int32, namespace string, ok bool) {
	kindNode := t.member(0, "kind")
	md = t.member(0, "metadata")
	if kindNode < 0 || md < 0 || t.nodes[kindNode].typ != nodeString || t.nodes[md].typ != nodeObject {
		return catalog.Ref{}, 0, "", false
	}
	nameNode := t.member(md, "name")
	if nameNode < 0 || t.nodes[nameNode].typ != nodeString || t.nodes[nameNode].str == "" || t.nodes[kindNode].str == "" {
		return catalog.Ref{}, 0, "", false
	}
	ref = catalog.Ref{Kind: t.nodes[kindNode].str, Name: t.nodes[nameNode].str}
	if ns := t.member(md, "namespace"); ns >= 0 && t.nodes[ns].typ == nodeString && t.nodes[ns].str != "" {
		ref.Namespace = t.nodes[ns].str
	} else {
		ref.Namespace, namespace = catalog.DefaultNamespace, catalog.DefaultNamespace
	}
	return ref, md, namespace, true
}
