package badging

import (
	"context"
	"slices"
	"strings"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/policies"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/catalogstore"
)

// Policies finds and lists the Policy entities of the catalog. It is safe for
// concurrent use as far as its reader is.
type Policies struct {
	// Catalog is the catalog read model the Policy entities are read from;
	// required.
	Catalog catalogstore.Reader
	// Stats, when set, reports the badge evaluator's work for List.
	Stats func() Stats
}

// ByID returns the Policy entity whose metadata.name is id (of several
// namespaces, the first by key). A policy that does not validate is a
// fault.Invalid error naming it; no such policy is a fault.NotFound error.
func (p Policies) ByID(ctx context.Context, id string) (*policies.Policy, error) {
	page, err := p.Catalog.Query(ctx, catalogstore.PageQuery{Filter: catalogstore.Filter{{
		{Key: "kind", Values: []string{"policy"}}, {Key: "metadata.name", Values: []string{id}}}}})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(page.Items, func(a, b catalogstore.EntityView) int { return strings.Compare(a.Key, b.Key) })
	for _, v := range page.Items {
		pol, err := policies.FromEntity(v.Ref, v.Body)
		if err != nil {
			return nil, fault.New(fault.Invalid, v.Ref, "policy %s does not validate: %v", v.Ref, err)
		}
		if pol.Metadata.Name == id {
			return pol, nil
		}
	}
	return nil, fault.New(fault.NotFound, id, "No policy %q", id)
}

// PolicyList is every Policy entity of the catalog, each compiled, and the
// evaluator's work when known.
type PolicyList struct {
	Items     []PolicyItem `json:"items"`
	Evaluator *Stats       `json:"evaluator,omitempty"`
}

// PolicyItem is one policy of a PolicyList, with what compiling it found.
type PolicyItem struct {
	ID     string          `json:"id"`
	Ref    string          `json:"ref"`
	Title  string          `json:"title,omitempty"`
	Levels []string        `json:"levels"`
	Checks int             `json:"checks"`
	Errors []PolicyProblem `json:"errors"`
}

// PolicyProblem is a problem of a policy, with the check and the position in
// its expression when it is a compile error.
type PolicyProblem struct {
	Check   string `json:"check,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
}

// List returns the Policy entities of the catalog in the catalog's order,
// each compiled, with its problems: a policy that does not validate is
// listed with that error only; a broken check is listed and the others still
// count. Items and each Errors are never nil.
func (p Policies) List(ctx context.Context) (PolicyList, error) {
	page, err := p.Catalog.Query(ctx, catalogstore.PageQuery{Filter: catalogstore.Filter{{{Key: "kind", Values: []string{"policy"}}}}})
	if err != nil {
		return PolicyList{}, err
	}
	out := PolicyList{Items: []PolicyItem{}}
	if p.Stats != nil {
		st := p.Stats()
		out.Evaluator = &st
	}
	for _, v := range page.Items {
		item := PolicyItem{Ref: v.Ref, Errors: []PolicyProblem{}}
		pol, err := policies.FromEntity(v.Ref, v.Body)
		if err != nil {
			item.Errors = append(item.Errors, PolicyProblem{Message: err.Error()})
			out.Items = append(out.Items, item)
			continue
		}
		item.ID, item.Title, item.Levels, item.Checks = pol.Metadata.Name, pol.Metadata.Title, pol.Spec.Levels, len(pol.Spec.Checks)
		c, err := policies.Compile(pol)
		if c == nil {
			item.Errors = append(item.Errors, PolicyProblem{Message: err.Error()})
		} else {
			for _, ce := range c.Errors() {
				item.Errors = append(item.Errors, PolicyProblem{Check: ce.Check, Line: ce.Line, Column: ce.Column, Message: ce.Error()})
			}
		}
		out.Items = append(out.Items, item)
	}
	return out, nil
}

// Verdict is what a badge of one policy says about an entity: the label (the
// policy's title, else its name), the message (the level reached, NoLevel
// when none, "not rated" when the policy has no verdict on the entity), and
// the level's rank (-1 when not rated).
type Verdict struct {
	Label   string
	Message string
	Rank    int
}

// VerdictOf picks the verdict of policy p among an entity's badges bs.
func VerdictOf(p *policies.Policy, bs []badges.Badge) Verdict {
	v := Verdict{Label: p.Metadata.Title, Message: "not rated", Rank: -1}
	if v.Label == "" {
		v.Label = p.Metadata.Name
	}
	for _, b := range bs {
		if b.Policy == p.Metadata.Name {
			v.Message, v.Rank = b.Level, b.Rank
			if v.Message == "" {
				v.Message = NoLevel
			}
		}
	}
	return v
}
