package permission

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Principal is who asks: a user or a service. The zero Principal is the
// anonymous one (no ref), which conditions see as principal.authenticated ==
// false.
type Principal struct {
	// Ref is the principal's entity ref, such as user:default/alice, or a
	// service token's name; empty when nobody signed in.
	Ref string
	// Groups are the refs of the groups the principal belongs to, through
	// parent groups, resolved by the caller.
	Groups []string
	// Claims are the identity's claims (an OIDC token's, or a static
	// token's), visible to conditions as principal.claims.
	Claims map[string]any
}

// Resource is what an action is about, as conditions see it: a map whose
// keys the caller fills for the kind of resource. The default policy reads
//
//	kind           string        Component, Template, Task, ApprovalStep, Migration, Policy, Subscription…
//	ref            string        the resource's ref or id
//	owner          string        the owning group's (or user's) ref, for entities
//	ownerMembers   []string      the refs of the owner group's members
//	allowedGroups  []string      who may run a template (empty: everyone signed in)
//	taskCreator    string        who created the task (tasks and approval steps)
//	approvers      []string      the users or groups an approval step names
//	selfApproval   bool          whether the step lets the task's creator approve
//	createdBy      string        who created a subscription
//	source         string        a fact source, for facts.report
//
// A condition reads a key that may be missing with optional selection,
// resource.?owner.orValue("").
type Resource map[string]any

// Decision is the answer to one question, with the rule that decided.
type Decision struct {
	Allowed bool
	// Rule is the name of the deciding rule; empty when no rule matched.
	Rule string
	// Reason explains the decision in a sentence.
	Reason string
}

// CompileError is a rule condition that did not compile: a syntax error, a
// type error, or a result that is not a bool. Line and Column (1-based)
// locate the problem in the condition; they are 0 when CEL gave no position.
type CompileError struct {
	Policy  string
	Rule    string
	Line    int
	Column  int
	Message string
}

// Error returns "permission policy P: rule R: if L:C: message".
func (e *CompileError) Error() string {
	where := "if"
	if e.Line > 0 {
		where += fmt.Sprintf(" %d:%d", e.Line, e.Column)
	}
	return fmt.Sprintf("permission policy %s: rule %s: %s: %s", e.Policy, e.Rule, where, e.Message)
}

// Engine decides permissions under one compiled policy. An Engine is
// immutable and safe for concurrent use.
type Engine struct {
	policy *Policy
	params map[string]string
	// byAction holds, for every known permission, the rules that cover it:
	// deny rules first, then allow rules, each in document order.
	byAction map[Permission]actionRules
}

type actionRules struct {
	deny, allow []*compiledRule
	// readsResource is whether any of these rules' conditions mentions
	// resource: when none does, one decision holds for every resource.
	readsResource bool
}

type compiledRule struct {
	Rule
	prg *program // nil when the rule has no condition
}

// Compile validates a policy and compiles every rule's condition once
// (conditions are cached across calls by their text). params override the
// policy's spec.params; a parameter the policy does not declare is an error.
// Any compile error fails the whole policy: a permission policy is not run
// in part. The errors name the policy, the rule and the position.
func Compile(p *Policy, params map[string]string) (*Engine, error) {
	if err := p.Validate(""); err != nil {
		return nil, err
	}
	e := &Engine{policy: p, params: maps.Clone(p.Spec.Params), byAction: map[Permission]actionRules{}}
	if e.params == nil {
		e.params = map[string]string{}
	}
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(params)) {
		if _, ok := e.params[k]; !ok {
			errs = append(errs, fmt.Errorf("permission policy %s: params.%s: not a parameter of the policy (it declares %s)", p.Metadata.Name, k, strings.Join(slices.Sorted(maps.Keys(e.params)), ", ")))
			continue
		}
		e.params[k] = params[k]
	}
	rules := make([]*compiledRule, len(p.Spec.Rules))
	for i, r := range p.Spec.Rules {
		cr := &compiledRule{Rule: r}
		if strings.TrimSpace(r.If) != "" {
			cr.prg = compileCondition(r.If)
			for _, ce := range cr.prg.errs {
				ce.Policy, ce.Rule = p.Metadata.Name, r.Name
				errs = append(errs, &ce)
			}
		}
		rules[i] = cr
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, perm := range All {
		var ar actionRules
		for _, r := range rules {
			if !slices.ContainsFunc(r.Permissions, func(pat string) bool { return matches(pat, perm) }) {
				continue
			}
			if strings.Contains(r.If, "resource") {
				ar.readsResource = true
			}
			if r.Effect == Deny {
				ar.deny = append(ar.deny, r)
			} else {
				ar.allow = append(ar.allow, r)
			}
		}
		e.byAction[perm] = ar
	}
	return e, nil
}

// Policy returns the policy compiled.
func (e *Engine) Policy() *Policy { return e.policy }

// Params returns the parameters in effect (the policy's, overridden).
func (e *Engine) Params() map[string]string { return maps.Clone(e.params) }

// ResourceIndependent reports whether no rule covering action reads the
// resource, so that one decision holds for every resource of the action: a
// list can then be answered whole or refused whole, without a decision per
// item. It errs on the side of false (a condition that merely names
// "resource" in a string counts as reading it). An unknown action is
// independent: it is denied whatever the resource.
func (e *Engine) ResourceIndependent(action Permission) bool {
	return !e.byAction[action].readsResource
}

// Decide answers whether principal may perform action on resource. The deny
// rules covering the action are evaluated first, in document order: the
// first that holds denies. Then the allow rules: the first that holds
// allows. When none holds the action is denied (Rule empty). A condition that
// fails to evaluate (a type mismatch at run time, the cost limit) fails
// closed: a failing deny rule denies, a failing allow rule does not allow,
// and the Reason says so. An unknown action is denied.
func (e *Engine) Decide(principal Principal, action Permission, resource Resource) Decision {
	ar, ok := e.byAction[action]
	if !ok {
		return Decision{Reason: fmt.Sprintf("%s is not a permission Backlot knows", action)}
	}
	vars := e.activation(principal, action, resource)
	for _, r := range ar.deny {
		holds, err := r.eval(vars)
		if err != nil {
			return Decision{Rule: r.Name, Reason: fmt.Sprintf("%s denied: deny rule %s could not be evaluated: %v", action, r.Name, err)}
		}
		if holds {
			return Decision{Rule: r.Name, Reason: fmt.Sprintf("%s denied by rule %s%s", action, r.Name, describe(r.Description))}
		}
	}
	var failed []string
	for _, r := range ar.allow {
		holds, err := r.eval(vars)
		if err != nil {
			failed = append(failed, fmt.Sprintf("rule %s: %v", r.Name, err))
			continue
		}
		if holds {
			return Decision{Allowed: true, Rule: r.Name, Reason: fmt.Sprintf("%s allowed by rule %s%s", action, r.Name, describe(r.Description))}
		}
	}
	reason := fmt.Sprintf("%s denied: no rule allows it", action)
	if len(failed) > 0 {
		reason += " (" + strings.Join(failed, "; ") + ")"
	}
	return Decision{Reason: reason}
}

func describe(d string) string {
	if d == "" {
		return ""
	}
	return ": " + d
}

func (e *Engine) activation(p Principal, action Permission, resource Resource) map[string]any {
	groups := p.Groups
	if groups == nil {
		groups = []string{}
	}
	claims := p.Claims
	if claims == nil {
		claims = map[string]any{}
	}
	res := map[string]any(resource)
	if res == nil {
		res = map[string]any{}
	}
	return map[string]any{
		"principal.ref":           p.Ref,
		"principal.groups":        groups,
		"principal.claims":        claims,
		"principal.authenticated": p.Ref != "",
		"action":                  string(action),
		"resource":                res,
		"params":                  e.params,
	}
}

func (r *compiledRule) eval(vars map[string]any) (bool, error) {
	if r.prg == nil {
		return true, nil
	}
	out, _, err := r.prg.prg.Eval(vars)
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("yielded %v, not a bool", out.Value())
	}
	return b, nil
}
