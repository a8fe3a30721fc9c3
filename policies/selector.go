package policies

import (
	"errors"
	"fmt"
	"time"
)

// Selector is a compiled CEL expression over one entity (the same
// environment as a policy's selector: entity, relations, facts, now) that
// chooses entities: migration targets, campaign members. It is safe for
// concurrent use.
type Selector struct {
	expr *compiledExpr
}

// SelectorError is a selector that does not compile: what owns it, the line
// and column in the expression, and the problem.
type SelectorError struct {
	Owner        string
	Line, Column int
	Message      string
}

// Error returns "owner: selector L:C: message".
func (e *SelectorError) Error() string {
	return fmt.Sprintf("%s: selector %d:%d: %s", e.Owner, e.Line, e.Column, e.Message)
}

// CompileSelector compiles a selector; owner names it in errors (e.g.
// "migration add-codeowners"). Errors are *SelectorError with the line and
// column; a result that is not a bool is one.
func CompileSelector(owner, expr string) (*Selector, error) {
	if len(expr) > MaxRuleLength {
		return nil, &SelectorError{Owner: owner, Line: 1, Column: 1, Message: fmt.Sprintf("longer than %d characters", MaxRuleLength)}
	}
	c := compileExpr("selector:"+owner, "", expr)
	if len(c.errs) > 0 {
		errs := make([]error, len(c.errs))
		for i, e := range c.errs {
			errs[i] = &SelectorError{Owner: owner, Line: max(e.Line, 1), Column: max(e.Column, 1), Message: e.Message}
		}
		return nil, errors.Join(errs...)
	}
	return &Selector{expr: c}, nil
}

// Matches reports whether the selector chooses the entity; an evaluation
// error (a missing field, the cost limit) comes back with its position.
func (s *Selector) Matches(entity map[string]any, relations []Relation, facts map[string]map[string]any, now time.Time) (bool, error) {
	return s.expr.eval(newActivation(Input{Entity: entity, Relations: relations, Facts: facts, Now: now}))
}
