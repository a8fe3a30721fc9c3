package migration

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/policies"
)

// APIVersion and Kind name a migration document.
const (
	APIVersion = "backlot.dev/v1alpha1"
	Kind       = "Migration"
)

// Limits of a spec.
const (
	// MaxScriptBytes bounds the change script.
	MaxScriptBytes = 64 << 10
	// MaxTimeout bounds one run of the script.
	MaxTimeout = time.Hour
	// DefaultTimeout is a script's timeout when the spec names none.
	DefaultTimeout = 5 * time.Minute
)

var (
	name   = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	branch = regexp.MustCompile(`^[A-Za-z0-9._/-]{1,200}$`)
)

// Spec is a migration document.
type Spec struct {
	APIVersion string   `yaml:"apiVersion" json:"apiVersion"`
	Kind       string   `yaml:"kind" json:"kind"`
	Metadata   Metadata `yaml:"metadata" json:"metadata"`
	Spec       Body     `yaml:"spec" json:"spec"`
}

// Metadata names a migration.
type Metadata struct {
	Name  string `yaml:"name" json:"name"`
	Title string `yaml:"title,omitempty" json:"title,omitempty"`
}

// Body is what a migration does.
type Body struct {
	Targets     Targets     `yaml:"targets" json:"targets"`
	Change      Change      `yaml:"change" json:"change"`
	PullRequest PullRequest `yaml:"pullRequest" json:"pullRequest"`
	Rollout     Rollout     `yaml:"rollout" json:"rollout"`
	// Merge is auto (merge once checks pass) or manual; default manual.
	Merge string `yaml:"merge,omitempty" json:"merge,omitempty"`
	// Deadline is a date (YYYY-MM-DD) the migration should be done by.
	Deadline string `yaml:"deadline,omitempty" json:"deadline,omitempty"`
	// Campaign names a policy campaign (policy/campaign) whose badge the
	// migration moves.
	Campaign string `yaml:"campaign,omitempty" json:"campaign,omitempty"`
}

// Targets choose the entities whose repositories change: a CEL selector over
// entity, or a list of refs (or both: the refs among the selected).
type Targets struct {
	Selector string   `yaml:"selector,omitempty" json:"selector,omitempty"`
	Refs     []string `yaml:"refs,omitempty" json:"refs,omitempty"`
}

// Change is what is done in each repository: a script run in its checkout.
type Change struct {
	Script  string `yaml:"script" json:"script"`
	Timeout string `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// Network asks for the network while the script runs; the worker gives
	// it only when its configuration allows it (--script-network).
	Network bool `yaml:"network,omitempty" json:"network,omitempty"`
}

// PullRequest is the change request each repository gets; Title and Body may
// hold ${{ entity... }} expressions.
type PullRequest struct {
	Branch string `yaml:"branch" json:"branch"`
	Title  string `yaml:"title" json:"title"`
	Body   string `yaml:"body,omitempty" json:"body,omitempty"`
}

// Rollout paces the migration.
type Rollout struct {
	// MaxConcurrent bounds the repositories in progress at once; default 10.
	MaxConcurrent int `yaml:"maxConcurrent,omitempty" json:"maxConcurrent,omitempty"`
	// MaxPerHour bounds the pull requests opened per hour; 0 is no bound.
	MaxPerHour int `yaml:"maxPerHour,omitempty" json:"maxPerHour,omitempty"`
	// Waves are the sizes of the first waves (a canary first); the rest
	// follows in one last wave. A wave starts once the one before is done.
	Waves []int `yaml:"waves,omitempty" json:"waves,omitempty"`
	// StopOnFailureRate stops the rollout when a finished wave's failed share
	// exceeds it (0 to 1); 0 never stops.
	StopOnFailureRate float64 `yaml:"stopOnFailureRate,omitempty" json:"stopOnFailureRate,omitempty"`
}

// FieldError is one problem of a spec, naming the migration and the field.
type FieldError struct {
	Migration string
	Field     string
	Problem   string
}

// Error returns "migration M: field: problem".
func (e *FieldError) Error() string {
	return fmt.Sprintf("migration %s: %s: %s", e.Migration, e.Field, e.Problem)
}

// Is reports whether target is fault.Invalid: a spec with a bad field is
// invalid input.
func (e *FieldError) Is(target error) bool { return target == fault.Invalid }

// Parse reads a spec from YAML or JSON (JSON is YAML; the API and the CLI
// both use it; unknown fields are errors), fills the defaults and validates
// it; every problem comes back joined.
func Parse(data []byte) (*Spec, error) {
	var s Spec
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, &FieldError{Migration: "?", Field: "(document)", Problem: err.Error()}
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Validate fills the defaults and checks every field.
func (s *Spec) Validate() error {
	var errs []error
	m := s.Metadata.Name
	if m == "" {
		m = "?"
	}
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Migration: m, Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	if s.APIVersion != APIVersion {
		bad("apiVersion", "is %q, want %q", s.APIVersion, APIVersion)
	}
	if s.Kind != Kind {
		bad("kind", "is %q, want %q", s.Kind, Kind)
	}
	if !name.MatchString(s.Metadata.Name) {
		bad("metadata.name", "%q: lower-case letters, digits and -, at most 63", s.Metadata.Name)
	}
	b := &s.Spec
	if strings.TrimSpace(b.Targets.Selector) == "" && len(b.Targets.Refs) == 0 {
		bad("spec.targets", "names no selector and no refs")
	}
	if b.Targets.Selector != "" {
		if _, err := policies.CompileSelector("migration "+m, b.Targets.Selector); err != nil {
			bad("spec.targets.selector", "%v", err)
		}
	}
	if strings.TrimSpace(b.Change.Script) == "" {
		bad("spec.change.script", "is empty")
	} else if len(b.Change.Script) > MaxScriptBytes {
		bad("spec.change.script", "is longer than %d bytes", MaxScriptBytes)
	}
	if _, err := s.Timeout(); err != nil {
		bad("spec.change.timeout", "%v", err)
	}
	if !branch.MatchString(b.PullRequest.Branch) || strings.Contains(b.PullRequest.Branch, "..") {
		bad("spec.pullRequest.branch", "%q is not a branch name", b.PullRequest.Branch)
	}
	if strings.TrimSpace(b.PullRequest.Title) == "" {
		bad("spec.pullRequest.title", "is empty")
	}
	for field, text := range map[string]string{"spec.pullRequest.title": b.PullRequest.Title, "spec.pullRequest.body": b.PullRequest.Body} {
		if _, err := policies.ParseTemplate(text); err != nil {
			bad(field, "%v", err)
		}
	}
	r := &b.Rollout
	if r.MaxConcurrent == 0 {
		r.MaxConcurrent = 10
	}
	if r.MaxConcurrent < 0 || r.MaxConcurrent > 1000 {
		bad("spec.rollout.maxConcurrent", "%d: want 1 to 1000", r.MaxConcurrent)
	}
	if r.MaxPerHour < 0 {
		bad("spec.rollout.maxPerHour", "%d is negative", r.MaxPerHour)
	}
	for i, w := range r.Waves {
		if w <= 0 {
			bad(fmt.Sprintf("spec.rollout.waves[%d]", i), "%d: a wave has at least one repository", w)
		}
	}
	if r.StopOnFailureRate < 0 || r.StopOnFailureRate > 1 {
		bad("spec.rollout.stopOnFailureRate", "%v: want 0 to 1", r.StopOnFailureRate)
	}
	switch b.Merge {
	case "":
		b.Merge = "manual"
	case "auto", "manual":
	default:
		bad("spec.merge", "%q: want auto or manual", b.Merge)
	}
	if b.Deadline != "" {
		if _, err := time.Parse("2006-01-02", b.Deadline); err != nil {
			bad("spec.deadline", "%q is not a date (YYYY-MM-DD)", b.Deadline)
		}
	}
	return errors.Join(errs...)
}

// Timeout returns the script's timeout.
func (s *Spec) Timeout() (time.Duration, error) {
	if s.Spec.Change.Timeout == "" {
		return DefaultTimeout, nil
	}
	d, err := time.ParseDuration(s.Spec.Change.Timeout)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (2m, 90s)", s.Spec.Change.Timeout)
	}
	if d <= 0 || d > MaxTimeout {
		return 0, fmt.Errorf("%s: want more than 0 and at most %s", d, MaxTimeout)
	}
	return d, nil
}
