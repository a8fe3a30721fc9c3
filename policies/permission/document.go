package permission

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strings"

	"go.yaml.in/yaml/v3"
)

// APIVersion and Kind identify a permission policy document.
const (
	APIVersion = "backlot.dev/v1alpha1"
	Kind       = "PermissionPolicy"
)

// Effect is what a matching rule does: Allow or Deny.
type Effect string

const (
	// Allow grants the permission when the rule's condition holds, unless a deny rule also holds.
	Allow Effect = "allow"
	// Deny refuses the permission when the rule's condition holds, whatever the allow rules say.
	Deny Effect = "deny"
)

// Policy is a permission policy document.
type Policy struct {
	APIVersion string   `yaml:"apiVersion"`
	Kind       string   `yaml:"kind"`
	Metadata   Metadata `yaml:"metadata"`
	Spec       Spec     `yaml:"spec"`
}

// Metadata names a policy.
type Metadata struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description,omitempty"`
}

// Spec holds a policy's parameters (defaults the caller may override, read
// by conditions as params.NAME) and its rules, in order.
type Spec struct {
	Params map[string]string `yaml:"params,omitempty"`
	Rules  []Rule            `yaml:"rules"`
}

// Rule grants or refuses Permissions when If holds. An empty If always holds.
type Rule struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description,omitempty"`
	Permissions []string `yaml:"permissions"`
	Effect      Effect   `yaml:"effect"`
	If          string   `yaml:"if,omitempty"`
}

// Parse reads one permission policy document from data; file names the
// source in errors. Unknown fields are errors, and so is a document that does
// not Validate.
func Parse(file string, data []byte) (*Policy, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p Policy
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if err := p.Validate(file); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate checks the document's identity and each rule's name, effect and
// permissions (a name must be Known, a glob must cover at least one known
// permission); rule names are unique. Errors name the file, the rule and the
// field, joined.
func (p *Policy) Validate(file string) error {
	var errs []error
	fail := func(format string, args ...any) {
		where := file
		if where != "" {
			where += ": "
		}
		errs = append(errs, fmt.Errorf("%spermission policy %q: %s", where, p.Metadata.Name, fmt.Sprintf(format, args...)))
	}
	if p.APIVersion != APIVersion {
		fail("apiVersion %q, want %q", p.APIVersion, APIVersion)
	}
	if p.Kind != Kind {
		fail("kind %q, want %q", p.Kind, Kind)
	}
	if strings.TrimSpace(p.Metadata.Name) == "" {
		fail("metadata.name is empty")
	}
	if len(p.Spec.Rules) == 0 {
		fail("spec.rules is empty")
	}
	seen := map[string]bool{}
	for i, r := range p.Spec.Rules {
		if r.Name == "" {
			fail("spec.rules[%d].name is empty", i)
		} else if seen[r.Name] {
			fail("rule %s: name used twice", r.Name)
		}
		seen[r.Name] = true
		if r.Effect != Allow && r.Effect != Deny {
			fail("rule %s: effect %q, want allow or deny", r.Name, r.Effect)
		}
		if len(r.Permissions) == 0 {
			fail("rule %s: permissions is empty", r.Name)
		}
		for _, pat := range r.Permissions {
			if _, err := path.Match(pat, ""); err != nil {
				fail("rule %s: permissions: bad glob %q", r.Name, pat)
				continue
			}
			if !strings.ContainsAny(pat, "*?[") {
				if !Known(Permission(pat)) {
					fail("rule %s: permissions: unknown permission %q", r.Name, pat)
				}
				continue
			}
			covers := false
			for _, known := range All {
				if matches(pat, known) {
					covers = true
					break
				}
			}
			if !covers {
				fail("rule %s: permissions: %q covers no known permission", r.Name, pat)
			}
		}
	}
	return errors.Join(errs...)
}
