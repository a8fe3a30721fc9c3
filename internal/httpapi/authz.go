package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/internal/auth"
	"backlot.dev/backlot/policies/permission"
)

// RouteAccess is what one route of the API needs: the permission it names,
// or why it is open to anyone who reaches the server.
type RouteAccess struct {
	// Pattern is the route's pattern, "METHOD /path/{var}".
	Pattern string `json:"pattern"`
	// Permission is the permission the route names; empty for an open route.
	Permission permission.Permission `json:"permission,omitempty"`
	// Resource says what the permission is decided on: "" (nothing in
	// particular), "path" (the resource the path names), "body" (resources
	// the request's body names, each decided) or "each" (a list: each item
	// is decided, and the principal sees only those allowed).
	Resource string `json:"resource,omitempty"`
	// Open says why the route needs no permission; empty when it names one.
	Open string `json:"open,omitempty"`
}

// accessMode is how a route's permission is checked.
type accessMode int

const (
	// checkFirst decides before the handler runs, on the resource the
	// route's resolver names (or none).
	checkFirst accessMode = iota
	// checkInHandler leaves the decision to the handler, which finds the
	// resources in the request's body and calls authorize on each.
	checkInHandler
	// checkEach marks a list: the handler decides per item with readable.
	// When no rule covering the permission reads the resource, one decision
	// is made before the handler, and a denial refuses the whole list.
	checkEach
	// noCheck is an open route.
	noCheck
)

// resolver finds the resource a request is about; an error (not found,
// invalid) answers the request instead.
type resolver func(*http.Request) (permission.Resource, error)

// access is one route's permission and how it is checked.
type access struct {
	perm    permission.Permission
	mode    accessMode
	resolve resolver
	open    string
}

// need is a route decided before its handler runs, on what resolve finds
// (nil: no particular resource).
func need(perm permission.Permission, resolve resolver) access {
	return access{perm: perm, mode: checkFirst, resolve: resolve}
}

// needInHandler is a route whose handler decides perm on the resources its
// body names.
func needInHandler(perm permission.Permission) access {
	return access{perm: perm, mode: checkInHandler}
}

// needEach is a list whose items are each decided with perm.
func needEach(perm permission.Permission) access {
	return access{perm: perm, mode: checkEach}
}

// openTo is a route anyone who reaches the server may use, for the reason given.
func openTo(why string) access { return access{mode: noCheck, open: why} }

// routeAccess describes a for RouteAccess.
func (a access) routeAccess(pattern string) RouteAccess {
	ra := RouteAccess{Pattern: pattern, Permission: a.perm, Open: a.open}
	switch {
	case a.mode == checkInHandler:
		ra.Resource = "body"
	case a.mode == checkEach:
		ra.Resource = "each"
	case a.mode == checkFirst && a.resolve != nil:
		ra.Resource = "path"
	}
	return ra
}

// route registers pattern on mux with its access: every route of the API
// is added through it (or through notOffered), so the route table names a
// permission, or a reason to be open, for each.
func (s *server) route(mux *http.ServeMux, pattern string, a access, h handlerFunc) {
	if a.mode != noCheck && !permission.Known(a.perm) {
		panic(fmt.Sprintf("httpapi: route %s names unknown permission %q", pattern, a.perm))
	}
	if a.mode == noCheck && a.open == "" {
		panic(fmt.Sprintf("httpapi: open route %s says not why", pattern))
	}
	s.table = append(s.table, a.routeAccess(pattern))
	mux.Handle(pattern, s.handle(func(w http.ResponseWriter, r *http.Request) error {
		switch a.mode {
		case checkFirst:
			var res permission.Resource
			switch {
			case a.resolve == nil:
			case !s.perms.ResourceIndependent(a.perm):
				var err error
				if res, err = a.resolve(r); err != nil {
					return err
				}
			case !s.perms.Decide(s.principal(r), a.perm, nil).Allowed:
				// No rule reads the resource: it is resolved only to name
				// it in the denial, and a read spared when allowed.
				res, _ = a.resolve(r)
			}
			if err := s.authorize(r, a.perm, res); err != nil {
				return err
			}
		case checkEach:
			if s.perms.ResourceIndependent(a.perm) {
				if err := s.authorize(r, a.perm, nil); err != nil {
					return err
				}
			}
		}
		return h(w, r)
	}))
}

// RouteTable lists every route the API serves, each with the permission it
// names or the reason it is open, in registration order. Routes Backstage
// has and Backlot does not offer (answered 501) are open: they do nothing.
func RouteTable() []RouteAccess {
	s := &server{cfg: Config{}}
	s.routes(http.NewServeMux())
	s.table = append(s.table, RouteAccess{Pattern: "GET /metrics", Open: openMetrics})
	return slices.Clone(s.table)
}

// The reasons routes are open.
const (
	openHealth     = "health and readiness probes answer anyone"
	openMetrics    = "Prometheus scrapes the metrics without a principal"
	openHooks      = "git host webhooks carry their own signature (BACKLOT_WEBHOOK_SECRET)"
	openNotOffered = "a Backstage route Backlot does not offer: it answers 501 and does nothing"
	openNoRoute    = "no route serves the path: it answers 404"
	openBadges     = "badge SVGs are embedded in README files; authentication decides (PublicBadges) whether they need a principal, and the entity's read permission is checked when there is one"
)

// onlyListed refuses a request that mux would hand to a route the route
// table does not list (one added with mux.Handle instead of route): 403
// NotAllowedError naming the route. So a route cannot be served without
// naming its permission, or why it is open.
func (s *server) onlyListed(mux *http.ServeMux) http.Handler {
	listed := make(map[string]bool, len(s.table))
	for _, ra := range s.table {
		listed[ra.Pattern] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" && !listed[pattern] {
			s.log.Error("a route names no permission: register it with route (internal/httpapi/authz.go)", "route", pattern)
			s.writeError(w, r, fault.New(fault.Forbidden, pattern, "route %s names no permission; nothing is served through it", pattern))
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// principal is who makes the request, as the permission policy sees it:
// the authenticated principal (auth.FromContext) with its groups, or else
// Config.Guest, or else the actor Config.Actor names, without groups.
func (s *server) principal(r *http.Request) permission.Principal {
	if p, ok := auth.FromContext(r.Context()); ok {
		return permission.Principal{Ref: p.Ref, Groups: p.Groups, Claims: p.Claims}
	}
	if s.cfg.Guest != nil {
		return permission.Principal{Ref: s.cfg.Guest.Ref, Groups: s.cfg.Guest.Groups}
	}
	return permission.Principal{Ref: s.actor(r)}
}

// authorize decides perm for the request's principal on res. A denial is
// recorded (Config.RecordDenial) and answered 403 NotAllowedError naming the
// principal, the permission, the resource and the reason.
func (s *server) authorize(r *http.Request, perm permission.Permission, res permission.Resource) error {
	p := s.principal(r)
	d := s.perms.Decide(p, perm, res)
	if d.Allowed {
		return nil
	}
	s.recordDenial(r, p, perm, res, d)
	who := p.Ref
	if who == "" {
		who = "nobody signed in"
	}
	on := ""
	if ref, _ := res["ref"].(string); ref != "" {
		kind, _ := res["kind"].(string)
		on = fmt.Sprintf(" on %s %s", kind, ref)
	}
	return &fault.Error{Category: fault.Forbidden, Value: string(perm),
		Message: fmt.Sprintf("%s may not %s%s: %s", who, perm, on, d.Reason)}
}

// denialTimeout bounds recording one denial.
const denialTimeout = 5 * time.Second

// recordDenial hands a denial to Config.RecordDenial, whose failure is
// logged and does not change the answer (which is a refusal either way).
func (s *server) recordDenial(r *http.Request, p permission.Principal, perm permission.Permission, res permission.Resource, d permission.Decision) {
	kind, _ := res["kind"].(string)
	ref, _ := res["ref"].(string)
	denied := event.PermissionDenied{Principal: p.Ref, Groups: p.Groups, Permission: string(perm), ResourceKind: kind,
		Resource: ref, Rule: d.Rule, Reason: d.Reason, Method: r.Method, Path: r.URL.Path}
	s.log.Info("permission denied", "principal", p.Ref, "permission", perm, "resource", ref, "rule", d.Rule, "path", r.URL.Path)
	if s.cfg.RecordDenial == nil {
		return
	}
	if !s.denials.allow(p.Ref, time.Now()) {
		s.log.Warn("permission denials of a principal over the limit are not recorded in the event log", "principal", p.Ref,
			"limit", maxDenialsRecorded, "per", denialWindow)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), denialTimeout)
	defer cancel()
	if err := s.cfg.RecordDenial(ctx, denied); err != nil {
		s.log.Error("recording a permission denial failed", "principal", p.Ref, "permission", perm, "error", err)
	}
}

// maxDenialsRecorded is how many denials of one principal are recorded in
// the event log per denialWindow: enough for an audit to see what someone
// tried, too few for a principal to flood the log with refused requests.
// Denials over it are still answered 403 and logged, not recorded.
const maxDenialsRecorded = 60

// denialWindow is the window maxDenialsRecorded counts in.
const denialWindow = time.Minute

// denialLimiter counts each principal's recorded denials in the current
// window. It is safe for concurrent use.
type denialLimiter struct {
	mu     sync.Mutex
	start  time.Time
	counts map[string]int
}

// allow reports whether one more denial of principal may be recorded at now.
func (l *denialLimiter) allow(principal string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.counts == nil || now.Sub(l.start) >= denialWindow {
		l.start, l.counts = now, map[string]int{}
	}
	if l.counts[principal] >= maxDenialsRecorded {
		return false
	}
	l.counts[principal]++
	return true
}

// readable returns whether the request's principal holds perm on a
// resource, for filtering a list: nil when one decision covers every item
// (the route already checked it), else a decision per item. Items left out
// are not recorded as denials: a list shows what it may.
func (s *server) readable(r *http.Request, perm permission.Permission) func(permission.Resource) bool {
	if s.perms.ResourceIndependent(perm) {
		return nil
	}
	p := s.principal(r)
	return func(res permission.Resource) bool { return s.perms.Decide(p, perm, res).Allowed }
}
