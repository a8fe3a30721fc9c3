package webui

import (
	"context"
	"html/template"
	"strconv"
	"strings"
	"time"

	"backlot.dev/backlot/projections/catalogstore"
)

func init() {
	funcs["approx"] = countHTML
	funcs["countLabel"] = countLabel
}

// Lag says whether a count a page shows was served from an answer computed
// before the read model's last write, and how old that answer was when it
// was read. The catalog stores serve a total or a facet over more than
// catalogstore.DefaultExactUpTo matches that way (catalogstore.LagCache)
// while they recount it in the background; the API says so with its
// Backlot-Lagging header, the pages with "≈" and the answer's age. The
// zero Lag is an exact count.
type Lag struct {
	Lagging bool
	Age     time.Duration
}

// lagNote returns ctx carrying a fresh catalogstore.LagNote, and a function
// that reads what the store calls made with that context noted. Each count a
// page shows on its own takes its own note, so only the lagging ones are
// marked.
func lagNote(ctx context.Context) (context.Context, func() Lag) {
	ctx, note := catalogstore.WithLagNote(ctx)
	return ctx, func() Lag {
		lagging, age := note.Lagging()
		return Lag{Lagging: lagging, Age: age}
	}
}

// Merge returns the lag of a number made of two counts: lagging if either
// is, as old as the older.
func (l Lag) Merge(o Lag) Lag {
	return Lag{Lagging: l.Lagging || o.Lagging, Age: max(l.Age, o.Age)}
}

// AgeText says how old a lagging count is, in seconds: tenths under ten
// seconds ("1.2 s"), whole seconds above.
func (l Lag) AgeText() string {
	s := l.Age.Seconds()
	if s < 10 {
		return strconv.FormatFloat(s, 'f', 1, 64) + " s"
	}
	return strconv.FormatFloat(s, 'f', 0, 64) + " s"
}

// Title is the explanation a lagging count carries as its tooltip; "" for
// an exact count.
func (l Lag) Title() string {
	if !l.Lagging {
		return ""
	}
	return "counted " + l.AgeText() + " ago; the catalog changes faster than it is counted"
}

// countHTML shows n as it is when l is exact; when l lags, as "≈ 12,345"
// in a span whose title says how old the count is, and which the script
// (app.js) finds by its data-lagging attribute to fetch the page again once
// the recount is done. A title reaches neither the keyboard nor every
// screen reader: a page that shows a lagging count also says so in its text
// (the pager's and the filters' notes, Home's heading).
func countHTML(n int, l Lag) template.HTML {
	if !l.Lagging {
		return template.HTML(strconv.Itoa(n))
	}
	return template.HTML(`<span class="approx" data-lagging title="` + template.HTMLEscapeString(l.Title()) + `">≈ ` + grouped(n) + `</span>`)
}

// countLabel is the accessible name of a count of things (a facet value's
// count): "12 entities" when exact, "about 12,345 entities, counted 1.2 s
// ago" when l lags.
func countLabel(n int, l Lag, things string) string {
	if !l.Lagging {
		return strconv.Itoa(n) + " " + things
	}
	return "about " + grouped(n) + " " + things + ", counted " + l.AgeText() + " ago"
}

// grouped writes n with a comma between groups of three digits: 123,456.
func grouped(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
