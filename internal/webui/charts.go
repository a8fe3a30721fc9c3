package webui

import (
	"fmt"
	"html/template"
	"strings"
	"time"
)

// chartSeries is one line of a chart: its label, its CSS class (which
// gives its colour) and its points.
type chartSeries struct {
	Label string
	Class string
	Times []time.Time
	Vals  []int
}

// lineChart draws series over time as an accessible inline SVG (a title, a
// description naming the last value of each line, axes with the first and
// last instants and the largest value). It needs no script, so a page
// server-rendered shows it.
func lineChart(title string, series []chartSeries) template.HTML {
	const w, h, left, right, top, bottom = 640.0, 220.0, 44.0, 12.0, 12.0, 28.0
	var t0, t1 time.Time
	maxV := 1
	points := 0
	for _, s := range series {
		for i, t := range s.Times {
			if t0.IsZero() || t.Before(t0) {
				t0 = t
			}
			if t.After(t1) {
				t1 = t
			}
			maxV = max(maxV, s.Vals[i])
			points++
		}
	}
	var b strings.Builder
	id := fmt.Sprintf("c%x", hashString(title))
	desc := []string{}
	for _, s := range series {
		if n := len(s.Vals); n > 0 {
			desc = append(desc, fmt.Sprintf("%s: %d", s.Label, s.Vals[n-1]))
		}
	}
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="%s-t %s-d" xmlns="http://www.w3.org/2000/svg">`, w, h, id, id)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, template.HTMLEscapeString(title), id,
		template.HTMLEscapeString("Latest values: "+strings.Join(desc, ", ")))
	fmt.Fprintf(&b, `<line class="axis" x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f"/>`, left, h-bottom, w-right, h-bottom)
	fmt.Fprintf(&b, `<line class="axis" x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f"/>`, left, top, left, h-bottom)
	fmt.Fprintf(&b, `<text class="tick" x="%.0f" y="%.0f" text-anchor="end">%d</text>`, left-4, top+8, maxV)
	fmt.Fprintf(&b, `<text class="tick" x="%.0f" y="%.0f" text-anchor="end">0</text>`, left-4, h-bottom)
	if points == 0 {
		fmt.Fprintf(&b, `<text class="tick" x="%.0f" y="%.0f" text-anchor="middle">no data yet</text></svg>`, w/2, h/2)
		return template.HTML(b.String())
	}
	span := t1.Sub(t0).Seconds()
	x := func(t time.Time) float64 {
		if span <= 0 {
			// One instant: each line runs level across the chart.
			return left
		}
		return left + (w-left-right)*t.Sub(t0).Seconds()/span
	}
	y := func(v int) float64 { return h - bottom - (h-top-bottom)*float64(v)/float64(maxV) }
	fmt.Fprintf(&b, `<text class="tick" x="%.0f" y="%.0f">%s</text>`, left, h-8, t0.UTC().Format("2006-01-02 15:04"))
	fmt.Fprintf(&b, `<text class="tick" x="%.0f" y="%.0f" text-anchor="end">%s</text>`, w-right, h-8, t1.UTC().Format("2006-01-02 15:04"))
	for _, s := range series {
		if len(s.Vals) == 0 {
			continue
		}
		var pts []string
		for i, t := range s.Times {
			// A step line: the count holds until the next point.
			if i > 0 {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(t), y(s.Vals[i-1])))
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(t), y(s.Vals[i])))
		}
		if len(s.Times) == 1 {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", w-right, y(s.Vals[0])))
		}
		fmt.Fprintf(&b, `<polyline class="line %s" points="%s"><title>%s</title></polyline>`, s.Class, strings.Join(pts, " "), template.HTMLEscapeString(s.Label))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// hashString is a short FNV-1a hash, for element ids.
func hashString(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// diffLine is one line of a unified diff with its kind, for colouring.
type diffLine struct {
	Text, Kind string
}

// diffLines splits a unified diff into lines marked add, del, hunk, file
// or context.
func diffLines(diff string) []diffLine {
	var out []diffLine
	for _, l := range strings.Split(strings.TrimRight(diff, "\n"), "\n") {
		k := "ctx"
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"), strings.HasPrefix(l, "diff "), strings.HasPrefix(l, "index "), strings.HasPrefix(l, "new file"):
			k = "file"
		case strings.HasPrefix(l, "+"):
			k = "add"
		case strings.HasPrefix(l, "-"):
			k = "del"
		case strings.HasPrefix(l, "@@"):
			k = "hunk"
		}
		out = append(out, diffLine{Text: l, Kind: k})
	}
	return out
}
