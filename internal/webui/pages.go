package webui

import (
	"net/http"
	"slices"
	"sync"

	"backlot.dev/backlot/policies/permission"
)

// Section is one entry of the navigation.
type Section struct {
	// ID names the section in Page.Section and in the layout.
	ID string
	// Label is what the navigation shows; Key is its keyboard shortcut
	// (g then Key).
	Label, Key string
	// Path is where the entry leads.
	Path string
}

// Sections are the portal's seven sections, in navigation order. A section
// whose page is not registered shows in the navigation without a link.
var Sections = []Section{
	{ID: "home", Label: "Home", Key: "h", Path: "/"},
	{ID: "catalog", Label: "Catalog", Key: "c", Path: "/catalog"},
	{ID: "create", Label: "Create", Key: "n", Path: "/create"},
	{ID: "migrations", Label: "Migrations", Key: "m", Path: "/migrations"},
	{ID: "scorecards", Label: "Scorecards", Key: "s", Path: "/scorecards"},
	{ID: "audit", Label: "Audit", Key: "a", Path: "/audit"},
	{ID: "entity", Label: "Entity", Key: "", Path: ""},
}

// Page is one page of the portal, registered from its own file with
// Register in an init function.
type Page struct {
	// Pattern is the route, as http.ServeMux reads it: "GET /catalog".
	Pattern string
	// Section is the ID of the navigation section the page belongs to.
	Section string
	// Template is the page's file in templates/; it defines "content" (and
	// may define "head" for extra <head> lines).
	Template string
	// Permission is what the principal needs to see the page; the page is
	// answered 403 when the permission policy denies it.
	Permission permission.Permission
	// Load reads what the page shows. It returns the template's data and
	// the page's title, or an error: a domain/fault category answers its
	// status (not found 404, invalid input 400, forbidden 403, unavailable
	// 503) with the error page.
	Load func(s *Server, r *Request) (data any, title string, err error)
	// Method, when set, serves the route directly (a form's POST, a JSON
	// fragment): it is checked for Permission like Load and writes its own
	// answer.
	Method func(s *Server, w http.ResponseWriter, r *Request) error
}

var (
	registryMu sync.Mutex
	registry   []Page
)

// Register adds a page to every Server New builds afterwards. Call it from
// the page's file in an init function; it panics on a page without a
// pattern, a known section, a permission, or a Load or Method.
func Register(p Page) {
	registryMu.Lock()
	defer registryMu.Unlock()
	switch {
	case p.Pattern == "":
		panic("webui: a page needs a Pattern")
	case !slices.ContainsFunc(Sections, func(s Section) bool { return s.ID == p.Section }):
		panic("webui: page " + p.Pattern + " names an unknown section " + p.Section)
	case !permission.Known(p.Permission):
		panic("webui: page " + p.Pattern + " names an unknown permission " + string(p.Permission))
	case p.Load == nil && p.Method == nil:
		panic("webui: page " + p.Pattern + " has neither Load nor Method")
	case p.Load != nil && p.Template == "":
		panic("webui: page " + p.Pattern + " has a Load but no Template")
	}
	registry = append(registry, p)
}

// registered returns a copy of the registered pages.
func registered() []Page {
	registryMu.Lock()
	defer registryMu.Unlock()
	return slices.Clone(registry)
}
