package webui

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/internal/auth"
	"backlot.dev/backlot/policies/permission"
)

// Server serves the portal's pages and assets. It is safe for concurrent
// use.
type Server struct {
	cfg    Config
	mux    *http.ServeMux
	pages  []Page
	tmpl   map[string]*template.Template
	assets *assetSet
	routes []string
	served map[string]bool
}

// Request is one page request as a page's Load sees it: the HTTP request,
// who asks, and helpers to read its URL's state.
type Request struct {
	*http.Request
	// Principal is who the page renders for; Groups are theirs (from the
	// authenticator and, through memberOf relations, the catalog).
	Principal permission.Principal
	// SignedIn is false for the guest of a server without authenticator.
	SignedIn bool
}

// New builds the portal over cfg with every registered page.
func New(cfg Config) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), pages: registered(), served: map[string]bool{}}
	var err error
	if s.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if s.tmpl, err = s.parseTemplates(); err != nil {
		return nil, err
	}
	s.mux.HandleFunc("GET "+assetPrefix+"{name}", s.serveAsset)
	s.routes = append(s.routes, "GET "+assetPrefix+"{name}")
	for _, p := range s.pages {
		s.mux.Handle(p.Pattern, s.page(p))
		// The manifest lists routes as a client requests them: "GET /{$}"
		// is "GET /".
		s.routes = append(s.routes, strings.Replace(p.Pattern, "/{$}", "/", 1))
		for _, sec := range Sections {
			if sec.ID == p.Section && sec.Path != "" && strings.HasSuffix(p.Pattern, " "+sec.Path) {
				s.served[sec.ID] = true
			}
		}
		if p.Pattern == "GET /{$}" {
			s.served["home"] = true
		}
	}
	return s, nil
}

// Routes lists the route patterns the portal serves, for the app's Manifest.
func (s *Server) Routes() []string { return append([]string(nil), s.routes...) }

// ServeHTTP serves a page or an asset; a path no page serves is answered 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.cfg.GuardHosts && !s.hostAllowed(r.Host) {
		http.Error(w, "the Host header does not name this server", http.StatusForbidden)
		return
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	s.mux.ServeHTTP(w, r)
}

// Handles reports whether the portal serves the request's path (a page or
// an asset), so Mount passes every other path to the API.
func (s *Server) Handles(r *http.Request) bool {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		return false
	}
	_, pattern := s.mux.Handler(r)
	return pattern != ""
}

// Mount returns a handler that serves the portal's paths with ui and
// everything else (the API, /healthz, /auth/...) with api, so the API's
// answers, its 404 for unknown /api paths included, are unchanged.
func Mount(api http.Handler, ui *Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ui.Handles(r) {
			ui.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// hostAllowed reports whether host names this server (see Config.Hosts).
func (s *Server) hostAllowed(host string) bool {
	return auth.LocalHost(host, s.cfg.Hosts)
}

// page is the handler of one registered page: who asks, may they, then the
// page's Load and its template in the layout.
func (s *Server) page(p Page) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, hr *http.Request) {
		start := time.Now()
		req, err := s.request(hr)
		if err != nil {
			s.renderError(w, hr, nil, p.Section, http.StatusUnauthorized, "Sign in to see this page", err.Error())
			return
		}
		if d := s.cfg.Decide(req.Principal, p.Permission, nil); !d.Allowed {
			s.renderError(w, hr, req, p.Section, http.StatusForbidden, "You may not see this page",
				fmt.Sprintf("%s needs the permission %s: %s", req.Principal.Ref, p.Permission, d.Reason))
			return
		}
		if p.Method != nil {
			if err := p.Method(s, w, req); err != nil {
				s.renderFault(w, hr, req, p.Section, err)
			}
			return
		}
		data, title, err := p.Load(s, req)
		if err != nil {
			s.renderFault(w, hr, req, p.Section, err)
			return
		}
		s.render(w, hr, req, p, http.StatusOK, title, data, time.Since(start))
	})
}

// request resolves who asks: the authenticator's principal, or the guest.
func (s *Server) request(hr *http.Request) (*Request, error) {
	req := &Request{Request: hr}
	if s.cfg.Identify == nil {
		req.Principal = permission.Principal{Ref: Guest, Groups: append([]string(nil), s.cfg.GuestGroups...)}
	} else {
		if hr.Method == http.MethodPost && hr.Header.Get(auth.CSRFHeader) == "" {
			// A plain form cannot send a header: the portal's forms carry the
			// session's CSRF token in the _csrf field, which the
			// authenticator checks as it checks the header of the API's writes.
			if tok := hr.FormValue("_csrf"); tok != "" {
				hr.Header.Set(auth.CSRFHeader, tok)
			}
		}
		p, err := s.cfg.Identify(hr)
		if err != nil || p.Ref == "" {
			if err == nil {
				err = errors.New("nobody is signed in")
			}
			return nil, err
		}
		req.Principal = permission.Principal{Ref: p.Ref, Groups: append([]string(nil), p.Groups...)}
		req.SignedIn = true
		hr = hr.WithContext(auth.WithPrincipal(hr.Context(), p))
		req.Request = hr
	}
	// The groups through the catalog, as the API's authenticator finds them
	// (the same cached directory); a catalog that cannot answer leaves the
	// groups the principal came with.
	if groups, err := s.cfg.Directory.Groups(hr.Context(), req.Principal.Ref, req.Principal.Groups); err == nil {
		req.Principal.Groups = mergeGroups(req.Principal.Groups, groups)
	}
	return req, nil
}

// renderFault answers err with the error page and the status of its category.
func (s *Server) renderFault(w http.ResponseWriter, hr *http.Request, req *Request, section string, err error) {
	status, title := http.StatusInternalServerError, "Something went wrong"
	switch fault.Of(err) {
	case fault.NotFound:
		status, title = http.StatusNotFound, "Not found"
	case fault.Invalid:
		status, title = http.StatusBadRequest, "That request does not parse"
	case fault.Forbidden:
		status, title = http.StatusForbidden, "You may not see this"
	case fault.Unavailable:
		status, title = http.StatusServiceUnavailable, "Not available right now"
	}
	if status == http.StatusInternalServerError {
		s.cfg.Logger.Error("page failed", "path", hr.URL.Path, "err", err)
	}
	s.renderError(w, hr, req, section, status, title, err.Error())
}

// errorData is what the error page shows.
type errorData struct {
	Status  int
	Message string
	SignIn  string
}

// renderError answers with the error page in the layout.
func (s *Server) renderError(w http.ResponseWriter, hr *http.Request, req *Request, section string, status int, title, msg string) {
	d := errorData{Status: status, Message: msg}
	if status == http.StatusUnauthorized {
		d.SignIn = s.cfg.SignInURL + "?redirect=" + urlQueryEscape(hr.URL.RequestURI())
	}
	s.render(w, hr, req, Page{Section: section, Template: "error.html"}, status, title, d, 0)
}

// render writes the page's template inside the layout. A request that asks
// for a fragment (the script's live updates) gets the same HTML; the script
// takes the parts it needs.
func (s *Server) render(w http.ResponseWriter, hr *http.Request, req *Request, p Page, status int, title string, data any, loaded time.Duration) {
	t := s.tmpl[p.Template]
	if t == nil {
		http.Error(w, "no template "+p.Template, http.StatusInternalServerError)
		return
	}
	v := s.layoutData(hr, req, p.Section, title, data)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.cfg.Logger.Error("page render failed", "path", hr.URL.Path, "template", p.Template, "err", err)
		http.Error(w, "the page failed to render", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if loaded > 0 {
		h.Set("Server-Timing", fmt.Sprintf("load;dur=%.1f", float64(loaded.Microseconds())/1000))
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
