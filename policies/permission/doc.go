// Package permission is Backlot's permission engine: every API action names a
// Permission, and a permission policy written in CEL decides whether a
// principal may perform it on a resource.
//
// A policy is a document (apiVersion backlot.dev/v1alpha1, kind
// PermissionPolicy; see Parse) of rules. Each rule names the permissions it
// covers (exact names or globs such as catalog.*), an effect (allow or deny)
// and an `if` condition, a CEL expression over
//
//	principal  ref (string), groups (list of string), claims (map), authenticated (bool)
//	action     string               the permission asked for
//	resource   map(string, dyn)     what the action is about (Resource)
//	params     map(string, string)  the policy's parameters
//
// type-checked at compile time to yield a bool. Compile builds an *Engine
// (each condition compiled once, and cached across engines by its text), and
// (*Engine).Decide answers with a Decision naming the rule that decided: a
// matching deny rule wins over any allow rule, and when no rule matches the
// action is denied. Every evaluation runs under DecisionCostLimit.
//
// Default returns the shipped default policy (default.yaml in this package,
// described in README.md): signed-in principals read; an entity's owners
// write to it; templates may restrict who runs them; approvals are decided
// by the approvers a step names, never by the task's creator unless the step
// allows it; migrations belong to the platform group; audit reads to the
// auditors group.
//
// The package decides only; callers resolve the principal (its groups
// through the catalog) and the resource (an entity's owner and the owner
// group's members, a template's allowed groups, a step's approvers).
package permission
