package policies

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/interpreter"

	"backlot.dev/backlot/domain/event"
)

// Relation is one relation of an entity: its type (dependsOn, ownedBy, …) and
// the ref of its target.
type Relation struct {
	Type      string `json:"type"`
	TargetRef string `json:"targetRef"`
}

// Input is what a policy is evaluated on: the entity's descriptor, its
// relations, the facts reported about it by source and name, and the instant
// of the evaluation (an input, so an evaluation is deterministic).
type Input struct {
	Entity    map[string]any
	Relations []Relation
	Facts     map[string]map[string]any
	Now       time.Time
}

// Result is a policy's verdict on one entity. Applies says whether the
// selector chose the entity; when it did not, Level is "" and Checks is
// empty. Level is the highest level reached, "" when not even the lowest is.
// Error is set when the selector failed, which makes the policy not apply.
type Result struct {
	Policy  string        `json:"policy"`
	Applies bool          `json:"applies"`
	Level   string        `json:"level"`
	Checks  []CheckResult `json:"checks,omitempty"`
	Error   string        `json:"error,omitempty"`
	// Campaigns lists the ids of the policy's campaigns whose selector chose
	// the entity (a campaign without a selector takes every rated entity; one
	// whose selector fails takes none).
	Campaigns []string `json:"campaigns,omitempty"`
	// Rank is Level's index among the policy's levels plus one, 0 for none.
	Rank int `json:"rank"`
}

// CheckResult is one check's verdict: it passed, failed, or failed with an
// error (a rule that did not compile, a missing field, the cost limit). It is
// the check outcome a badge event carries (id, level, passed, message,
// error), so a verdict's checks become an event's without a copy.
type CheckResult = event.CheckOutcome

// activation hands the variables to CEL without building a map per entity.
type activation struct {
	entity    map[string]any
	relations []any
	facts     map[string]any
	now       time.Time
	// tier is the index of the smallest of sizeTiers that holds the input
	// (noTier for none), known once tierKnown is set.
	tier      int
	tierKnown bool
}

// sizeTier returns the tier of the activation's input, walking it once.
func (a *activation) sizeTier() int {
	if !a.tierKnown {
		a.tier, a.tierKnown = tierOf(a.sizeOf()), true
	}
	return a.tier
}

// ResolveName returns the variable called name: entity, relations, facts or now.
func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "entity":
		return a.entity, true
	case "relations":
		return a.relations, true
	case "facts":
		return a.facts, true
	case "now":
		return a.now, true
	}
	return nil, false
}

// Parent returns nil: an activation stands alone.
func (a *activation) Parent() interpreter.Activation { return nil }

func newActivation(in Input) *activation {
	// Plain map[string]any and []any values take CEL's fast paths; nested
	// typed maps and slices would be read by reflection.
	a := &activation{entity: in.Entity, now: in.Now, facts: make(map[string]any, len(in.Facts))}
	if a.entity == nil {
		a.entity = map[string]any{}
	}
	for source, facts := range in.Facts {
		if facts == nil {
			facts = map[string]any{}
		}
		a.facts[source] = facts
	}
	a.relations = make([]any, len(in.Relations))
	for i, r := range in.Relations {
		a.relations[i] = map[string]any{"type": r.Type, "targetRef": r.TargetRef}
	}
	return a
}

// eval runs one compiled expression. An error names where in the
// expression it happened, "L:C: message" (1:1, the start, when CEL names no
// node, as for an exceeded cost limit).
func (e *compiledExpr) eval(a *activation) (bool, error) {
	prg := e.prg
	if e.free != nil && a.sizeTier() <= e.freeTier {
		prg = e.free
	}
	out, _, err := prg.Eval(a)
	if err != nil {
		return false, e.locate(err)
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("1:1: yielded %v, want bool", out.Value())
	}
	return b, nil
}

// locate prefixes a runtime error with its line and column in the expression.
func (e *compiledExpr) locate(err error) error {
	line, col := 1, 1
	var ce *types.Err
	if errors.As(err, &ce) && ce.NodeID() != 0 && e.info != nil {
		if loc := e.info.GetStartLocation(ce.NodeID()); loc.Line() > 0 {
			line, col = loc.Line(), loc.Column()+1
		}
	}
	return fmt.Errorf("%d:%d: %w", line, col, err)
}

// Evaluate rates one entity: the selector first, then, if it applies, every
// check. A check that fails to evaluate (its rule did not compile, a missing
// field, the cost limit) fails with the error. The level reached is the
// highest one whose checks, and those of every level below, all pass. It
// never panics and depends on nothing but its input.
func (c *Compiled) Evaluate(in Input) Result {
	r := Result{Policy: c.policy.Metadata.Name}
	a := newActivation(in)
	if c.selector.prg == nil {
		r.Error = c.selector.errs[0].Error()
		return r
	}
	applies, err := c.selector.eval(a)
	if err != nil {
		r.Error = fmt.Sprintf("policy %s: selector %v", r.Policy, err)
		return r
	}
	if !applies {
		return r
	}
	return c.rate(a)
}

// Rate runs the checks of a policy whose selector chose the entity (see
// Selects), without evaluating the selector again: what Evaluate returns for
// an entity the policy applies to.
func (c *Compiled) Rate(in Input) Result {
	return c.rate(newActivation(in))
}

func (c *Compiled) rate(a *activation) Result {
	r := Result{Policy: c.policy.Metadata.Name, Applies: true}
	r.Checks = make([]CheckResult, len(c.checks))
	lowestFailed := len(c.policy.Spec.Levels)
	for i, ch := range c.checks {
		cr := CheckResult{ID: ch.ID, Level: ch.Level, Message: ch.Message}
		switch {
		case ch.expr.prg == nil:
			cr.Error = ch.err
		default:
			ok, err := ch.expr.eval(a)
			if err != nil {
				cr.Error = fmt.Sprintf("policy %s: check %s: rule %v", r.Policy, ch.ID, err)
			}
			cr.Passed = ok && err == nil
		}
		if !cr.Passed && ch.level < lowestFailed {
			lowestFailed = ch.level
		}
		r.Checks[i] = cr
	}
	if lowestFailed > 0 {
		r.Level = c.policy.Spec.Levels[lowestFailed-1]
		r.Rank = lowestFailed
	}
	for _, cp := range c.campaigns {
		if cp.expr != nil {
			if cp.expr.prg == nil {
				continue
			}
			if ok, err := cp.expr.eval(a); err != nil || !ok {
				continue
			}
		}
		r.Campaigns = append(r.Campaigns, cp.ID)
	}
	return r
}

// Selects reports whether the policy's selector chooses the entity of in
// (false when the selector did not compile or fails). Only in.Entity is read.
func (c *Compiled) Selects(in Input) bool {
	if c.selector.prg == nil {
		return false
	}
	ok, err := c.selector.eval(&activation{entity: in.Entity, now: in.Now})
	return err == nil && ok
}
