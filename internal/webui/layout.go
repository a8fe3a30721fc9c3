package webui

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

//go:embed templates/*.html
var templateFS embed.FS

// navItem is one entry of the navigation as the layout draws it.
type navItem struct {
	Section
	// Current marks the section of the page shown; Linked is false for a
	// section whose page is not served (yet).
	Current, Linked bool
}

// layout is what templates/layout.html reads; Data is the page's own.
type layout struct {
	Title     string
	Section   string
	Nav       []navItem
	Principal string
	Name      string
	SignedIn  bool
	Guest     bool
	SignInURL string
	MeURL     string
	CSS, JS   string
	Path      string
	Data      any
}

// layoutData assembles the layout around a page's data.
func (s *Server) layoutData(hr *http.Request, req *Request, section, title string, data any) layout {
	v := layout{
		Title: title, Section: section, Data: data, Path: hr.URL.Path,
		SignInURL: s.cfg.SignInURL, MeURL: s.cfg.MeURL,
		CSS: s.assets.url("app.css"), JS: s.assets.url("app.js"),
	}
	if req != nil {
		v.Principal = req.Principal.Ref
		v.Name = refName(req.Principal.Ref)
		v.SignedIn = req.SignedIn
		v.Guest = !req.SignedIn
	}
	for _, sec := range Sections {
		if sec.Path == "" && sec.ID != section {
			continue
		}
		v.Nav = append(v.Nav, navItem{Section: sec, Current: sec.ID == section, Linked: s.served[sec.ID]})
	}
	return v
}

// parseTemplates parses layout.html with every other template file, one set
// per page template, so each page defines its own "content".
func (s *Server) parseTemplates() (map[string]*template.Template, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html")
	if err != nil {
		return nil, fmt.Errorf("webui: templates: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		file := strings.TrimPrefix(n, "templates/")
		if file == "layout.html" || strings.HasPrefix(file, "_") {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("webui: template %s: %w", file, err)
		}
		out[file] = t
	}
	for _, p := range s.pages {
		if p.Load != nil && out[p.Template] == nil {
			return nil, fmt.Errorf("webui: page %s names template %s, which templates/ lacks", p.Pattern, p.Template)
		}
	}
	return out, nil
}

// mergeGroups returns a and the refs of b not in a (compared without case).
func mergeGroups(a, b []string) []string {
	out := slices.Clone(a)
	for _, g := range b {
		if !slices.ContainsFunc(out, func(x string) bool { return strings.EqualFold(x, g) }) {
			out = append(out, g)
		}
	}
	return out
}

// urlQueryEscape escapes s for a query value.
func urlQueryEscape(s string) string { return url.QueryEscape(s) }
