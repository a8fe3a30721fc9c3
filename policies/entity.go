package policies

import (
	"encoding/json"
	"fmt"
)

// FromEntity reads a Policy from a catalog entity's body (kind Policy, as the
// catalog stores it: metadata may carry more than a policy file does) and
// validates it; where names the entity in errors.
func FromEntity(where string, body []byte) (*Policy, error) {
	var p Policy
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, &ValidationError{File: where, Problem: fmt.Sprintf("not a policy: %v", err)}
	}
	if err := p.Validate(where); err != nil {
		return nil, err
	}
	return &p, nil
}
