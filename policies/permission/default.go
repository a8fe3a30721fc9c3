package permission

import (
	_ "embed"
	"maps"
	"slices"
	"sync"
)

// DefaultYAML is the default permission policy shipped with Backlot, the
// document default.yaml of this package.
//
//go:embed default.yaml
var DefaultYAML []byte

var (
	defaultOnce   sync.Once
	defaultPolicy *Policy
	defaultErr    error
)

// DefaultPolicy returns the parsed default policy. Each call returns a fresh
// copy of the document, which the caller may change.
func DefaultPolicy() (*Policy, error) {
	defaultOnce.Do(func() {
		defaultPolicy, defaultErr = Parse("policies/permission/default.yaml", DefaultYAML)
	})
	if defaultErr != nil {
		return nil, defaultErr
	}
	p := *defaultPolicy
	p.Spec.Params = maps.Clone(defaultPolicy.Spec.Params)
	p.Spec.Rules = slices.Clone(defaultPolicy.Spec.Rules)
	return &p, nil
}

// Default compiles the default policy with params overriding its parameters
// (platformGroup, auditorsGroup, gitHooksGroup; nil keeps the defaults).
func Default(params map[string]string) (*Engine, error) {
	p, err := DefaultPolicy()
	if err != nil {
		return nil, err
	}
	return Compile(p, params)
}
