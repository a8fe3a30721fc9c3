package scaffolder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.yaml.in/yaml/v3"

	"backlot.dev/backlot/domain/fault"
)

// catalogInfoURL is the url location catalog:register registers.
func catalogInfoURL(r *Run) (string, error) {
	if u, err := r.String("catalogInfoUrl"); err != nil || u != "" {
		return u, err
	}
	contents, err := r.String("repoContentsUrl")
	if err != nil {
		return "", err
	}
	if contents == "" {
		return "", inputError("steps.%s.input: give repoContentsUrl (with catalogInfoPath) or catalogInfoUrl", r.In.StepID)
	}
	p, err := r.String("catalogInfoPath")
	if err != nil {
		return "", err
	}
	if p == "" {
		p = "/catalog-info.yaml"
	}
	p = strings.TrimPrefix(p, "/")
	if strings.Contains(contents, "?") {
		return contents + "&path=" + url.QueryEscape(p), nil
	}
	return strings.TrimSuffix(contents, "/") + "/" + p, nil
}

func catalogRegister(ctx context.Context, a *Activities, r *Run) error {
	target, err := catalogInfoURL(r)
	if err != nil {
		return err
	}
	optional, _ := r.Input["optional"].(bool)
	refs, err := a.Catalog.Register(ctx, r.In.User.Ref, r.In.Task, target)
	if err != nil {
		err = registerError(target, err)
		if optional {
			r.Logf("Could not register %s (optional): %v", target, err)
			return nil
		}
		return err
	}
	r.Set("catalogInfoUrl", target)
	if len(refs) > 0 {
		r.Set("entityRef", refs[0])
	}
	r.Result.Entities = refs
	r.Logf("Registered %s: %s", target, strings.Join(refs, ", "))
	return nil
}

// registerError makes an error of Catalog.Register that cannot succeed on a
// retry non-retryable: a conflict (fault.Conflict: an entity of the file is
// provided by another location) fails with ConflictErrorType, an invalid or
// forbidden target (fault.Invalid, fault.Forbidden) with InputErrorType. An
// error that is already a Temporal application error keeps its own
// classification; any other error (a store that did not answer) stays
// retryable.
func registerError(target string, err error) error {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return err
	}
	switch {
	case errors.Is(err, fault.Conflict):
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("register %s: %v", target, err), ConflictErrorType, nil)
	case errors.Is(err, fault.Invalid), errors.Is(err, fault.Forbidden):
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("register %s: %v", target, err), InputErrorType, nil)
	}
	return err
}

func catalogRegisterDry(_ context.Context, _ *Activities, r *Run) error {
	target, err := catalogInfoURL(r)
	if err != nil {
		return err
	}
	r.Set("catalogInfoUrl", target)
	r.Logf("Dry run: would register %s", target)
	return nil
}

func catalogWrite(_ context.Context, _ *Activities, r *Run) error {
	p, err := r.String("filePath")
	if err != nil {
		return err
	}
	if p == "" {
		p = "catalog-info.yaml"
	}
	ent, ok := r.Input["entity"].(map[string]any)
	if !ok {
		return inputError("steps.%s.input.entity: required, an object", r.In.StepID)
	}
	dst, err := r.Workspace.Path(p)
	if err != nil {
		return inputError("steps.%s.input.filePath: %v", r.In.StepID, err)
	}
	raw, err := entityYAML(ent)
	if err != nil {
		return inputError("steps.%s.input.entity: %v", r.In.StepID, err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(dst, raw, 0o644); err != nil {
		return err
	}
	r.Logf("Wrote %s", p)
	return nil
}

// descriptorOrder is the order a descriptor's fields are written in, as
// authors write them (and Backstage's catalog:write keeps the author's
// order): these first, then the others by name.
var descriptorOrder = map[string][]string{
	"":         {"apiVersion", "kind", "metadata", "spec", "relations", "status"},
	"metadata": {"name", "namespace", "title", "description", "labels", "annotations", "tags", "links"},
}

// entityYAML writes an entity as catalog:write does in Backstage: YAML
// with a two-space indent, its top-level and metadata fields in the
// descriptor's usual order.
func entityYAML(ent map[string]any) ([]byte, error) {
	node, err := orderedNode(ent, "")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(node); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// orderedNode is m as a YAML mapping whose keys come in descriptorOrder[at]
// first, then by name.
func orderedNode(m map[string]any, at string) (*yaml.Node, error) {
	first := descriptorOrder[at]
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		if i := slices.Index(first, k); i >= 0 {
			return i
		}
		return len(first)
	}
	sort.Slice(keys, func(i, j int) bool {
		ri, rj := rank(keys[i]), rank(keys[j])
		if ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	out := &yaml.Node{Kind: yaml.MappingNode}
	for _, k := range keys {
		var v *yaml.Node
		if sub, ok := m[k].(map[string]any); ok && at == "" && k == "metadata" {
			n, err := orderedNode(sub, "metadata")
			if err != nil {
				return nil, err
			}
			v = n
		} else {
			v = &yaml.Node{}
			if err := v.Encode(m[k]); err != nil {
				return nil, err
			}
		}
		out.Content = append(out.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, v)
	}
	return out, nil
}
