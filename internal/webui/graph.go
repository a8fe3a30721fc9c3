package webui

import (
	"fmt"
	"html/template"
	"math"
	"slices"
	"strings"

	"backlot.dev/backlot/projections/catalogstore"
)

// maxGraphNodes bounds the neighbours the relation graph draws; the
// relation table below it lists every relation.
const maxGraphNodes = 16

// relationGraph draws an entity and its related entities as an SVG: the
// entity in the middle, one node per related entity around it (a link to its
// page), each edge labelled with the relation types. asOf, when set, is
// kept in the links.
func relationGraph(self string, rels []catalogstore.Relation, unread int, asOf string) template.HTML {
	type neighbour struct {
		ref   string
		types []string
	}
	var ns []*neighbour
	byRef := map[string]*neighbour{}
	for _, r := range rels {
		k := strings.ToLower(r.TargetRef)
		n := byRef[k]
		if n == nil {
			n = &neighbour{ref: r.TargetRef}
			byRef[k] = n
			ns = append(ns, n)
		}
		if !slices.Contains(n.types, r.Type) {
			n.types = append(n.types, r.Type)
		}
	}
	more := 0
	if len(ns) > maxGraphNodes {
		more = len(ns) - maxGraphNodes
		ns = ns[:maxGraphNodes]
	}
	const w, h, nodeW, nodeH = 760.0, 460.0, 170.0, 38.0
	cx, cy := w/2, h/2
	rx, ry := w/2-nodeW/2-10, h/2-nodeH/2-12
	suffix := ""
	if asOf != "" {
		suffix = "?asOf=" + urlQueryEscape(asOf)
	}
	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<svg viewBox="0 0 %.0f %.0f" width="%.0f" role="group" aria-labelledby="graph-title" xmlns="http://www.w3.org/2000/svg">`, w, h, w)
	if unread > 0 {
		fmt.Fprintf(&b, `<title id="graph-title">Relations of %s: %d related entities, and %d relations more</title>`, esc(self), len(byRef), unread)
	} else {
		fmt.Fprintf(&b, `<title id="graph-title">Relations of %s: %d related entities</title>`, esc(self), len(byRef))
	}
	pos := make([][2]float64, len(ns))
	for i := range ns {
		a := -math.Pi/2 + 2*math.Pi*float64(i)/float64(max(1, len(ns)))
		pos[i] = [2]float64{cx + rx*math.Cos(a), cy + ry*math.Sin(a)}
	}
	for i, n := range ns {
		x, y := pos[i][0], pos[i][1]
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, cx, cy, x, y)
		mx, my := (cx+x)/2, (cy+y)/2
		fmt.Fprintf(&b, `<text class="edge-label" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, mx, my-3, esc(strings.Join(n.types, ", ")))
	}
	node := func(x, y float64, ref, class string, link bool) {
		label := refName(ref)
		if len(label) > 24 {
			label = label[:23] + "…"
		}
		if link {
			fmt.Fprintf(&b, `<a href="%s%s">`, esc(entityURL(ref)), esc(suffix))
		}
		fmt.Fprintf(&b, `<g class="node %s"><rect x="%.1f" y="%.1f" width="%.0f" height="%.0f" rx="5"/><text class="kind" x="%.1f" y="%.1f" text-anchor="middle" font-size="10">%s</text><text x="%.1f" y="%.1f" text-anchor="middle" font-size="12">%s</text></g>`,
			class, x-nodeW/2, y-nodeH/2, nodeW, nodeH, x, y-4, esc(refKind(ref)), x, y+11, esc(label))
		if link {
			b.WriteString(`</a>`)
		}
	}
	node(cx, cy, self, "self", false)
	for i, n := range ns {
		node(pos[i][0], pos[i][1], n.ref, "", true)
	}
	if more > 0 {
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="end" font-size="12">and %d more (listed below)</text>`, w-8, h-8, more)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
