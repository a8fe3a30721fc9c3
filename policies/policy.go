package policies

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// PolicyAPIVersion is the apiVersion of a policy document.
const PolicyAPIVersion = "backlot.dev/v1alpha1"

// PolicyKind is the kind of a policy document.
const PolicyKind = "Policy"

// MaxRuleLength bounds the text of a selector or a check's rule.
const MaxRuleLength = 4096

// Policy is a policy document: a selector naming the entities it rates, its
// levels lowest first, and the checks of each level. It is the document as
// written; Validate says whether it is well formed, and Compile turns it into
// something to evaluate.
type Policy struct {
	APIVersion string         `yaml:"apiVersion" json:"apiVersion"`
	Kind       string         `yaml:"kind" json:"kind"`
	Metadata   PolicyMetadata `yaml:"metadata" json:"metadata"`
	Spec       PolicySpec     `yaml:"spec" json:"spec"`
}

// PolicyMetadata names a policy.
type PolicyMetadata struct {
	Name        string `yaml:"name" json:"name"`
	Title       string `yaml:"title,omitempty" json:"title,omitempty"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
}

// PolicySpec is what a policy checks: Selector is a CEL expression over
// entity that says which entities the policy rates, Levels are the badge
// levels lowest first, and Checks are the rules of each level.
type PolicySpec struct {
	Selector  string     `yaml:"selector" json:"selector"`
	Levels    []string   `yaml:"levels" json:"levels"`
	Checks    []Check    `yaml:"checks" json:"checks"`
	Campaigns []Campaign `yaml:"campaigns,omitempty" json:"campaigns,omitempty"`
}

// Campaign is a push to bring a set of entities to a level by a date: Selector
// (CEL over entity, like the policy's) chooses the entities among those the
// policy rates, Level is the level they must reach, and Deadline (YYYY-MM-DD)
// the date. Its progress over time is the campaign's burndown.
type Campaign struct {
	ID       string `yaml:"id" json:"id"`
	Title    string `yaml:"title,omitempty" json:"title,omitempty"`
	Level    string `yaml:"level" json:"level"`
	Deadline string `yaml:"deadline" json:"deadline"`
	Selector string `yaml:"selector,omitempty" json:"selector,omitempty"`
}

// CampaignDateLayout is the layout of a campaign's deadline.
const CampaignDateLayout = "2006-01-02"

// Check is one rule of a policy: Rule is a CEL expression over entity,
// relations, facts and now that yields a bool; Message says what it asks for.
type Check struct {
	ID      string `yaml:"id" json:"id"`
	Level   string `yaml:"level" json:"level"`
	Rule    string `yaml:"rule" json:"rule"`
	Message string `yaml:"message,omitempty" json:"message,omitempty"`
}

// ValidationError is one problem of a policy document. It names the file (when
// known), the policy, the check (when the problem is in one) and the field.
type ValidationError struct {
	File    string
	Policy  string
	Check   string
	Field   string
	Problem string
}

// Error returns "file: policy P: check C: field: problem", leaving out what is
// not known.
func (e *ValidationError) Error() string {
	var parts []string
	if e.File != "" {
		parts = append(parts, e.File)
	}
	if e.Policy != "" {
		parts = append(parts, "policy "+e.Policy)
	}
	if e.Check != "" {
		parts = append(parts, "check "+e.Check)
	}
	if e.Field != "" {
		parts = append(parts, e.Field)
	}
	return strings.Join(append(parts, e.Problem), ": ")
}

// Validate checks the document's shape: the apiVersion and kind, a name, a
// selector, levels that are non-empty and unique, and checks with unique ids,
// a level among the levels and a rule, and every level at least one check. It returns every problem found, joined
// (each one a *ValidationError naming file, policy, check and field), or nil.
func (p *Policy) Validate(file string) error {
	var errs []error
	bad := func(check, field, format string, args ...any) {
		errs = append(errs, &ValidationError{File: file, Policy: p.Metadata.Name, Check: check, Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	if p.APIVersion != PolicyAPIVersion {
		bad("", "apiVersion", "is %q, want %q", p.APIVersion, PolicyAPIVersion)
	}
	if p.Kind != PolicyKind {
		bad("", "kind", "is %q, want %q", p.Kind, PolicyKind)
	}
	if p.Metadata.Name == "" {
		bad("", "metadata.name", "is empty")
	}
	if strings.TrimSpace(p.Spec.Selector) == "" {
		bad("", "spec.selector", "is empty")
	} else if len(p.Spec.Selector) > MaxRuleLength {
		bad("", "spec.selector", "is longer than %d characters", MaxRuleLength)
	}
	if len(p.Spec.Levels) == 0 {
		bad("", "spec.levels", "is empty")
	}
	levels := map[string]bool{}
	for i, l := range p.Spec.Levels {
		switch {
		case l == "":
			bad("", fmt.Sprintf("spec.levels[%d]", i), "is empty")
		case levels[l]:
			bad("", fmt.Sprintf("spec.levels[%d]", i), "%q appears twice", l)
		}
		levels[l] = true
	}
	if len(p.Spec.Checks) == 0 {
		bad("", "spec.checks", "is empty")
	}
	ids := map[string]bool{}
	used := map[string]bool{}
	for i, c := range p.Spec.Checks {
		used[c.Level] = true
		name := c.ID
		if name == "" {
			name = fmt.Sprintf("#%d", i)
			bad(name, fmt.Sprintf("spec.checks[%d].id", i), "is empty")
		} else if ids[c.ID] {
			bad(name, fmt.Sprintf("spec.checks[%d].id", i), "%q appears twice", c.ID)
		}
		ids[c.ID] = true
		if !levels[c.Level] {
			bad(name, fmt.Sprintf("spec.checks[%d].level", i), "%q is not one of the levels %v", c.Level, p.Spec.Levels)
		}
		if strings.TrimSpace(c.Rule) == "" {
			bad(name, fmt.Sprintf("spec.checks[%d].rule", i), "is empty")
		} else if len(c.Rule) > MaxRuleLength {
			bad(name, fmt.Sprintf("spec.checks[%d].rule", i), "is longer than %d characters", MaxRuleLength)
		}
	}
	campaigns := map[string]bool{}
	for i, c := range p.Spec.Campaigns {
		field := fmt.Sprintf("spec.campaigns[%d]", i)
		switch {
		case c.ID == "":
			bad("", field+".id", "is empty")
		case campaigns[c.ID]:
			bad("", field+".id", "%q appears twice", c.ID)
		}
		campaigns[c.ID] = true
		if !levels[c.Level] {
			bad("", field+".level", "%q is not one of the levels %v", c.Level, p.Spec.Levels)
		}
		if _, err := time.Parse(CampaignDateLayout, c.Deadline); err != nil {
			bad("", field+".deadline", "%q is not a date (YYYY-MM-DD)", c.Deadline)
		}
		if len(c.Selector) > MaxRuleLength {
			bad("", field+".selector", "is longer than %d characters", MaxRuleLength)
		}
	}
	for i, l := range p.Spec.Levels {
		if l != "" && len(p.Spec.Checks) > 0 && !used[l] {
			bad("", fmt.Sprintf("spec.levels[%d]", i), "%q has no check", l)
		}
	}
	return errors.Join(errs...)
}

// ParsePolicies reads the policy documents of a YAML stream (JSON is YAML too)
// and validates each. file names the source in errors. Unknown fields are
// errors. It returns every policy that parsed and validated, and every
// problem found, joined; a broken document does not hide the others.
func ParsePolicies(file string, data []byte) ([]*Policy, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var out []*Policy
	var errs []error
	names := map[string]bool{}
	for i := 0; ; i++ {
		var p Policy
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, &ValidationError{File: file, Problem: fmt.Sprintf("document %d: %v", i+1, err)})
			// A syntax error leaves the decoder unable to go on.
			var te *yaml.TypeError
			if !errors.As(err, &te) {
				break
			}
			continue
		}
		if p.APIVersion == "" && p.Kind == "" && p.Metadata.Name == "" && len(p.Spec.Checks) == 0 {
			continue // an empty document
		}
		if err := p.Validate(file); err != nil {
			errs = append(errs, err)
			continue
		}
		if names[p.Metadata.Name] {
			errs = append(errs, &ValidationError{File: file, Policy: p.Metadata.Name, Field: "metadata.name", Problem: "appears twice"})
			continue
		}
		names[p.Metadata.Name] = true
		out = append(out, &p)
	}
	if len(out) == 0 && len(errs) == 0 {
		errs = append(errs, &ValidationError{File: file, Problem: "holds no policy"})
	}
	return out, errors.Join(errs...)
}

// LoadPolicies reads and parses the policy documents of a file (see
// ParsePolicies).
func LoadPolicies(path string) ([]*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParsePolicies(path, data)
}
