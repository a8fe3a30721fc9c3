package httpapi

import (
	"net/http"

	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/policies"
	"backlot.dev/backlot/projections/catalogstore"
)

// policyItem is one policy of GET /api/policies, with what compiling it found.
type policyItem struct {
	ID     string          `json:"id"`
	Ref    string          `json:"ref"`
	Title  string          `json:"title,omitempty"`
	Levels []string        `json:"levels"`
	Checks int             `json:"checks"`
	Errors []policyProblem `json:"errors"`
}

// policyProblem is a problem of a policy, with the check and the position in
// its expression when it is a compile error.
type policyProblem struct {
	Check   string `json:"check,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
}

// listPolicies answers GET /api/policies: the Policy entities of the catalog,
// each compiled, with its errors (a broken check is listed, the others still count).
func (s *server) listPolicies(w http.ResponseWriter, r *http.Request) error {
	page, err := s.reader.Query(r.Context(), catalogstore.PageQuery{Filter: catalogstore.Filter{{{Key: "kind", Values: []string{"policy"}}}}})
	if err != nil {
		return err
	}
	out := struct {
		Items     []policyItem   `json:"items"`
		Evaluator *badging.Stats `json:"evaluator,omitempty"`
	}{Items: []policyItem{}}
	if s.cfg.EvaluatorStats != nil {
		st := s.cfg.EvaluatorStats()
		out.Evaluator = &st
	}
	for _, v := range page.Items {
		item := policyItem{Ref: v.Ref, Errors: []policyProblem{}}
		p, err := policies.FromEntity(v.Ref, v.Body)
		if err != nil {
			item.Errors = append(item.Errors, policyProblem{Message: err.Error()})
			out.Items = append(out.Items, item)
			continue
		}
		item.ID, item.Title, item.Levels, item.Checks = p.Metadata.Name, p.Metadata.Title, p.Spec.Levels, len(p.Spec.Checks)
		c, err := policies.Compile(p)
		if c == nil {
			item.Errors = append(item.Errors, policyProblem{Message: err.Error()})
		} else {
			for _, ce := range c.Errors() {
				item.Errors = append(item.Errors, policyProblem{Check: ce.Check, Line: ce.Line, Column: ce.Column, Message: ce.Error()})
			}
		}
		out.Items = append(out.Items, item)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
