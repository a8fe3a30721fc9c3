package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/policies/permission"
)

// permissionRoutes adds the permission policy's explanation endpoint.
func (s *server) permissionRoutes(mux *http.ServeMux) {
	s.route(mux, "POST /api/permissions/decide", need(permission.PolicyRead, nil), s.decidePermission)
}

// DecideRequest is the body of POST /api/permissions/decide.
type DecideRequest struct {
	// Principal is the ref of who would act; "" is nobody signed in.
	Principal string `json:"principal"`
	// Groups are the principal's groups; when absent (null), the server
	// reads them from the catalog: the groups the User entity is a member of.
	Groups *[]string `json:"groups,omitempty"`
	// Permission is the permission asked about, such as catalog.entity.delete.
	Permission string `json:"permission"`
	// Resource names what the action is about, as the permission reads it:
	// an entity ref (catalog.*, facts.report, git.change.*), a template ref
	// (scaffolder.task.create, scaffolder.task.dryrun,
	// scaffolder.template.read), a task id (scaffolder.task.*,
	// scaffolder.approval.decide: the approval the task waits in), a
	// subscription id (events.subscription.*), a migration id (migration.*),
	// a location id; or a JSON object, taken as the resource itself. Empty:
	// no resource.
	Resource json.RawMessage `json:"resource,omitempty"`
}

// DecideResponse is the answer of POST /api/permissions/decide.
type DecideResponse struct {
	Allowed bool `json:"allowed"`
	// Rule is the deciding rule; empty when no rule matched.
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
	// Principal and Groups are who was decided for.
	Principal string   `json:"principal"`
	Groups    []string `json:"groups"`
	// Permission is the permission decided.
	Permission string `json:"permission"`
	// Resource is the resource as the server resolved it.
	Resource permission.Resource `json:"resource"`
	// Policy names the permission policy in effect.
	Policy string `json:"policy"`
}

// decidePermission answers POST /api/permissions/decide: the decision of the
// server's permission policy for a principal, a permission and a resource
// it resolves from its stores, with the deciding rule. Nothing is recorded:
// it is a question, not an attempt.
func (s *server) decidePermission(w http.ResponseWriter, r *http.Request) error {
	var req DecideRequest
	if err := s.decodeBody(w, r, &req, true); err != nil {
		return err
	}
	perm := permission.Permission(req.Permission)
	if !permission.Known(perm) {
		return inputError("permission: %q is not a permission Backlot knows", req.Permission)
	}
	p := permission.Principal{Ref: req.Principal}
	if req.Groups != nil {
		p.Groups = *req.Groups
	} else {
		groups, err := s.groupsOf(r.Context(), req.Principal)
		if err != nil {
			return err
		}
		p.Groups = groups
	}
	res, err := s.resolveNamed(r, perm, req.Resource)
	if err != nil {
		return err
	}
	d := s.perms.Decide(p, perm, res)
	if p.Groups == nil {
		p.Groups = []string{}
	}
	if res == nil {
		res = permission.Resource{}
	}
	writeJSON(w, http.StatusOK, DecideResponse{Allowed: d.Allowed, Rule: d.Rule, Reason: d.Reason, Principal: p.Ref,
		Groups: p.Groups, Permission: string(perm), Resource: res, Policy: s.perms.Policy().Metadata.Name})
	return nil
}

// groupsOf reads the groups of a principal from the catalog: the targets of
// its User entity's memberOf relations. A principal the catalog does not
// hold has none.
func (s *server) groupsOf(ctx context.Context, principal string) ([]string, error) {
	if principal == "" {
		return nil, nil
	}
	ref, err := catalog.ParseRef(principal, catalog.RefDefaults{Kind: "user"})
	if err != nil {
		return nil, nil
	}
	views, err := s.reader.ByKeys(ctx, []string{ref.Key()})
	if err != nil || len(views) == 0 || views[0] == nil {
		return nil, err
	}
	var out []string
	for _, rel := range views[0].Relations {
		if rel.Type == "memberOf" {
			out = append(out, rel.TargetRef)
		}
	}
	return out, nil
}

// resolveNamed resolves the resource a decide request names, by what the
// permission acts on.
func (s *server) resolveNamed(r *http.Request, perm permission.Permission, raw json.RawMessage) (permission.Resource, error) {
	text := strings.TrimSpace(string(raw))
	if text == "" || text == "null" {
		return nil, nil
	}
	if strings.HasPrefix(text, "{") {
		var res permission.Resource
		if err := json.Unmarshal(raw, &res); err != nil {
			return nil, inputError("resource: %v", err)
		}
		return res, nil
	}
	var name string
	if err := json.Unmarshal(raw, &name); err != nil {
		return nil, inputError("resource: want a name (a string) or a resource (an object): %v", err)
	}
	if name == "" {
		return nil, nil
	}
	ctx := r.Context()
	withID := func(key string) *http.Request {
		rr := r.Clone(ctx)
		rr.SetPathValue(key, name)
		return rr
	}
	switch {
	case perm == permission.ScaffolderTaskCreate || perm == permission.ScaffolderTaskDryRun || perm == permission.ScaffolderTemplateRead:
		return s.templateResource(ctx, name)
	case perm == permission.ScaffolderApprovalDecide:
		return s.approvalByPath(withID("id"))
	case strings.HasPrefix(string(perm), "scaffolder.task."):
		return s.taskByPath(withID("id"))
	case strings.HasPrefix(string(perm), "events.subscription."):
		return s.subscriptionByPath(withID("id"))
	case strings.HasPrefix(string(perm), "migration."):
		return permission.Resource{"kind": "Migration", "ref": name}, nil
	case strings.HasPrefix(string(perm), "catalog.location."):
		return permission.Resource{"kind": "Location", "ref": name}, nil
	case strings.HasPrefix(string(perm), "catalog.entity.") || perm == permission.FactsReport || strings.HasPrefix(string(perm), "git.change."):
		res, err := s.entityByRef(ctx, name, newOwnerMembers(s.reader))
		if fault.Of(err) == fault.NotFound {
			return nil, notFoundError("resource: no entity %s in the catalog", name)
		}
		return res, err
	}
	return permission.Resource{"ref": name}, nil
}
