package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/policies/permission"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/workflows/scaffolder"
)

// The relation types resources are resolved through (Backstage's names).
const (
	relationOwnedBy   = "ownedBy"
	relationHasMember = "hasMember"
)

// ownerMembers resolves and remembers the members of owner groups, so a list
// asks the catalog once per owner.
type ownerMembers struct {
	reader catalogstore.Reader
	seen   map[string][]string
}

func newOwnerMembers(rd catalogstore.Reader) *ownerMembers {
	return &ownerMembers{reader: rd, seen: map[string][]string{}}
}

// of returns the refs of the members of the group owner (its hasMember
// relations); nil when owner is no group the catalog holds.
func (o *ownerMembers) of(ctx context.Context, owner string) ([]string, error) {
	if owner == "" || !strings.HasPrefix(strings.ToLower(owner), "group:") {
		return nil, nil
	}
	if m, ok := o.seen[owner]; ok {
		return m, nil
	}
	ref, err := catalog.ParseRef(owner, catalog.RefDefaults{})
	if err != nil {
		return nil, nil
	}
	views, err := o.reader.ByKeys(ctx, []string{ref.Key()})
	if err != nil {
		return nil, err
	}
	members := []string{}
	if len(views) > 0 && views[0] != nil {
		for _, rel := range views[0].Relations {
			if rel.Type == relationHasMember {
				members = append(members, rel.TargetRef)
			}
		}
	}
	o.seen[owner] = members
	return members, nil
}

// resource is the permission.Resource of an entity: its kind, ref, owner
// (its ownedBy relation, else spec.owner as a group ref) and the owner
// group's members.
func (o *ownerMembers) resource(ctx context.Context, v *catalogstore.EntityView) (permission.Resource, error) {
	kind, owner := entityKindOwner(v)
	members, err := o.of(ctx, owner)
	if err != nil {
		return nil, err
	}
	return permission.EntityResource(kind, v.Ref, owner, members), nil
}

// entityKindOwner reads an entity's kind and its owner's ref.
func entityKindOwner(v *catalogstore.EntityView) (kind, owner string) {
	for _, rel := range v.Relations {
		if rel.Type == relationOwnedBy {
			owner = rel.TargetRef
			break
		}
	}
	var body struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Namespace string `json:"namespace"`
		} `json:"metadata"`
		Spec struct {
			Owner string `json:"owner"`
		} `json:"spec"`
	}
	_ = json.Unmarshal(v.Body, &body)
	if owner == "" && body.Spec.Owner != "" {
		ns := body.Metadata.Namespace
		if ns == "" {
			ns = catalog.DefaultNamespace
		}
		if ref, err := catalog.ParseRef(body.Spec.Owner, catalog.RefDefaults{Kind: "group", Namespace: ns}); err == nil {
			owner = ref.String()
		}
	}
	return body.Kind, owner
}

// entityByUID resolves the entity the path's {uid} names. An entity the
// catalog does not hold is the resource of its uid alone, owned by no one:
// only a permission that needs no owner passes, and the handler answers
// that it is missing.
func (s *server) entityByUID(r *http.Request) (permission.Resource, error) {
	uid := r.PathValue("uid")
	v, err := s.reader.ByUID(r.Context(), uid)
	if err != nil {
		if errors.Is(err, catalogstore.ErrNotFound) || fault.Of(err) == fault.NotFound {
			return permission.Resource{"ref": "uid:" + uid}, nil
		}
		return nil, err
	}
	return newOwnerMembers(s.reader).resource(r.Context(), v)
}

// entityByPath resolves the entity the path's {kind}/{namespace}/{name}
// names. An entity the catalog no longer holds (its history, an old badge)
// is the resource of its kind and ref alone: the handler answers whether it
// exists.
func (s *server) entityByPath(r *http.Request) (permission.Resource, error) {
	ref := catalog.Ref{Kind: r.PathValue("kind"), Namespace: r.PathValue("namespace"), Name: r.PathValue("name")}
	views, err := s.reader.ByKeys(r.Context(), []string{ref.Key()})
	if err != nil {
		return nil, err
	}
	if len(views) == 0 || views[0] == nil {
		return permission.EntityResource(ref.Kind, ref.String(), "", nil), nil
	}
	return newOwnerMembers(s.reader).resource(r.Context(), views[0])
}

// entityByRef resolves the entity ref (as a request body names it) through
// the catalog members reads; 404 when the catalog does not hold it.
func (s *server) entityByRef(ctx context.Context, raw string, members *ownerMembers) (permission.Resource, error) {
	ref, err := catalog.ParseRef(raw, catalog.RefDefaults{})
	if err != nil {
		return nil, inputError("Invalid entity ref %q: %v", raw, err)
	}
	views, err := members.reader.ByKeys(ctx, []string{ref.Key()})
	if err != nil {
		return nil, err
	}
	if len(views) == 0 || views[0] == nil {
		return nil, notFoundError("No entity %s", ref)
	}
	return members.resource(ctx, views[0])
}

// templateResource resolves the template ref from the catalog: its ref and
// the groups its backlot.dev/allowed-groups annotation allows. A template the
// catalog does not hold is the resource of its ref alone (the service then
// answers that it does not exist).
func (s *server) templateResource(ctx context.Context, raw string) (permission.Resource, error) {
	ref, err := catalog.ParseRef(raw, catalog.RefDefaults{Kind: "template"})
	if err != nil {
		return nil, inputError("templateRef: %v", err)
	}
	views, err := s.reader.ByKeys(ctx, []string{ref.Key()})
	if err != nil {
		return nil, err
	}
	if len(views) == 0 || views[0] == nil {
		return permission.TemplateResource(ref.String(), nil), nil
	}
	return templateOf(views[0].Ref, views[0].Body), nil
}

// templateOf is the resource of a template body.
func templateOf(ref string, body json.RawMessage) permission.Resource {
	var t struct {
		Metadata struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
	}
	_ = json.Unmarshal(body, &t)
	return permission.TemplateResource(ref, t.Metadata.Annotations)
}

// templateByPath resolves the template of the path's {namespace}/{kind}/{name}.
func (s *server) templateByPath(r *http.Request) (permission.Resource, error) {
	return s.templateResource(r.Context(), r.PathValue("kind")+":"+r.PathValue("namespace")+"/"+r.PathValue("name"))
}

// taskState is the state of task id, from the scaffolder service.
func (s *server) taskState(ctx context.Context, id string) (scaffolder.TaskState, error) {
	sc, err := s.scaffolderService()
	if err != nil {
		return scaffolder.TaskState{}, err
	}
	return sc.Task(ctx, id)
}

// taskByPath resolves the task of the path's {id}, with its creator.
func (s *server) taskByPath(r *http.Request) (permission.Resource, error) {
	id := r.PathValue("id")
	st, err := s.taskState(r.Context(), id)
	if err != nil {
		return nil, err
	}
	return permission.TaskResource(id, st.User), nil
}

// approvalByPath resolves the approval step the task of the path's {id}
// waits in: its approvers and whether its creator may approve. A task that
// waits for no approval answers 409.
func (s *server) approvalByPath(r *http.Request) (permission.Resource, error) {
	id := r.PathValue("id")
	st, err := s.taskState(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if st.Waiting == nil {
		return nil, fault.New(fault.Conflict, id, "task %s waits for no approval (it is %s)", id, st.Status)
	}
	return permission.ApprovalResource(id, st.Waiting.StepID, st.User, st.Waiting.Approvers, st.Waiting.SelfApproval), nil
}

// subscriptionByPath resolves the subscription of the path's {id}, with its creator.
func (s *server) subscriptionByPath(r *http.Request) (permission.Resource, error) {
	m, err := s.hooks()
	if err != nil {
		return nil, err
	}
	id := r.PathValue("id")
	sub, err := m.Store().Get(r.Context(), id)
	if err != nil {
		return nil, err
	}
	return permission.SubscriptionResource(id, sub.CreatedBy), nil
}

// pathResource is a resolver of the kind given whose ref is the path's
// values named, joined with "/".
func pathResource(kind string, names ...string) resolver {
	return func(r *http.Request) (permission.Resource, error) {
		parts := make([]string, len(names))
		for i, n := range names {
			parts[i] = r.PathValue(n)
		}
		res := permission.Resource{"kind": kind, "ref": strings.Join(parts, "/")}
		if kind == "FactSource" {
			res["source"] = parts[0]
		}
		return res, nil
	}
}

// entityOrRef resolves the entity ref a request's body names; an entity the
// catalog does not hold (or a ref that does not parse) is the resource of
// its ref alone, owned by no one, so only a permission that needs no owner
// passes, and the service then answers what is wrong with the ref.
func (s *server) entityOrRef(ctx context.Context, raw string, members *ownerMembers) (permission.Resource, error) {
	res, err := s.entityByRef(ctx, raw, members)
	if err == nil {
		return res, nil
	}
	if c := fault.Of(err); c == fault.NotFound || c == fault.Invalid {
		kind := ""
		if ref, perr := catalog.ParseRef(raw, catalog.RefDefaults{}); perr == nil {
			kind, raw = ref.Kind, ref.String()
		}
		return permission.EntityResource(kind, raw, "", nil), nil
	}
	return nil, err
}

// uploadedTemplate is the resource of a template a dry run uploads: its ref
// from its metadata and the groups its annotation allows.
func uploadedTemplate(body json.RawMessage) permission.Resource {
	var head struct {
		Metadata struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	_ = json.Unmarshal(body, &head)
	ns := head.Metadata.Namespace
	if ns == "" {
		ns = catalog.DefaultNamespace
	}
	return templateOf("template:"+ns+"/"+head.Metadata.Name, body)
}

// eventResource is the resource of an event of the log, for the feed and
// the audit lists: its subject as ref, its type and its actor.
func eventResource(ev event.Envelope) permission.Resource {
	return permission.Resource{"kind": "Event", "ref": ev.Subject, "type": ev.Type, "actor": ev.Actor}
}
