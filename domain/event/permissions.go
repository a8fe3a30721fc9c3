package event

// TypePermissionDenied records that the permission policy refused a request:
// who asked, for which permission, on what, and the rule that decided. Its
// subject is principal:<ref> (principal:anonymous when nobody signed in), so
// one principal's denials stay in order. It is an audit record: no read
// model folds it; the audit API and the change stream show it.
const TypePermissionDenied Type = "backlot.permission.denied.v1"

// AnonymousPrincipal names nobody signed in, in PrincipalSubject.
const AnonymousPrincipal = "anonymous"

// PrincipalSubject is the subject of a TypePermissionDenied event about the
// principal ref ("" is AnonymousPrincipal).
func PrincipalSubject(ref string) string {
	if ref == "" {
		ref = AnonymousPrincipal
	}
	return "principal:" + ref
}

// PermissionDenied is the data of TypePermissionDenied.
type PermissionDenied struct {
	// Principal is the ref of who asked; empty when nobody signed in.
	Principal string `json:"principal"`
	// Groups are the principal's groups as the decision saw them.
	Groups []string `json:"groups"`
	// Permission is the permission refused, such as catalog.entity.delete.
	Permission string `json:"permission"`
	// ResourceKind is the kind of resource the action was about (Component,
	// Template, Task, ApprovalStep, Migration, Subscription…); empty for an
	// action on no one resource.
	ResourceKind string `json:"resourceKind,omitempty"`
	// Resource is the resource's ref or id.
	Resource string `json:"resource,omitempty"`
	// Rule is the deny rule that decided; empty when no rule allowed.
	Rule string `json:"rule,omitempty"`
	// Reason is the decision's explanation.
	Reason string `json:"reason"`
	// Method and Path are the HTTP request refused.
	Method string `json:"method"`
	Path   string `json:"path"`
}
