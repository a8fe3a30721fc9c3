package migration

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/policies"
)

// AnnotationSourceLocation names the repository of an entity
// (url:https://host/org/repo/tree/main/), set on ingestion from a
// repository and by the scaffolder.
const AnnotationSourceLocation = "backstage.io/source-location"

// Target is one entity the migration changes, with its repository.
type Target struct {
	// Ref is the entity's ref; Name and Owner are passed to the script.
	Ref, Name, Owner string
	// Repo is the repository URL of its source-location annotation, without
	// the url: prefix.
	Repo string
	// Entity is the entity's body, for the pull request's expressions.
	Entity map[string]any
}

// Skipped is an entity the migration cannot change, and why.
type Skipped struct {
	Ref    string `json:"ref"`
	Reason string `json:"reason"`
}

// Choose picks the targets among entities (bodies as the catalog answers
// them): those the selector chooses and, when refs are given, that are among
// them. An entity without a source location is skipped with the reason; so
// is a ref the catalog does not hold. Targets keep the order of entities.
func (s *Spec) Choose(entities []map[string]any, now time.Time) ([]Target, []Skipped, error) {
	var sel *policies.Selector
	if s.Spec.Targets.Selector != "" {
		var err error
		if sel, err = policies.CompileSelector("migration "+s.Metadata.Name, s.Spec.Targets.Selector); err != nil {
			return nil, nil, err
		}
	}
	wanted := map[string]bool{}
	for _, r := range s.Spec.Targets.Refs {
		ref, err := catalog.ParseRef(r, catalog.RefDefaults{Kind: "Component"})
		if err != nil {
			return nil, nil, &FieldError{Migration: s.Metadata.Name, Field: "spec.targets.refs", Problem: fmt.Sprintf("%q: %v", r, err)}
		}
		wanted[ref.Key()] = true
	}
	var targets []Target
	var skipped []Skipped
	seen := map[string]bool{}
	for _, e := range entities {
		ref, ok := catalog.RefFromBody(e)
		if !ok {
			continue
		}
		key := ref.Key()
		seen[key] = true
		if len(wanted) > 0 && !wanted[key] {
			continue
		}
		if sel != nil {
			ok, err := sel.Matches(e, relationsOf(e), nil, now)
			if err != nil {
				skipped = append(skipped, Skipped{Ref: key, Reason: "selector: " + err.Error()})
				continue
			}
			if !ok {
				continue
			}
		}
		repo := sourceLocation(e)
		if repo == "" {
			skipped = append(skipped, Skipped{Ref: key, Reason: "no " + AnnotationSourceLocation + " annotation names its repository"})
			continue
		}
		spec, _ := e["spec"].(map[string]any)
		owner, _ := spec["owner"].(string)
		targets = append(targets, Target{Ref: key, Name: ref.Name, Owner: owner, Repo: repo, Entity: e})
	}
	var gone []string
	for k := range wanted {
		if !seen[k] {
			gone = append(gone, k)
		}
	}
	slices.Sort(gone)
	for _, k := range gone {
		skipped = append(skipped, Skipped{Ref: k, Reason: "not in the catalog"})
	}
	return targets, skipped, nil
}

// sourceLocation returns the repository URL of an entity's source location.
func sourceLocation(e map[string]any) string {
	md, _ := e["metadata"].(map[string]any)
	ann, _ := md["annotations"].(map[string]any)
	v, _ := ann[AnnotationSourceLocation].(string)
	v = strings.TrimSpace(v)
	if t, ok := strings.CutPrefix(v, "url:"); ok {
		return t
	}
	return ""
}

// relationsOf reads the relations the catalog attaches to a body.
func relationsOf(e map[string]any) []policies.Relation {
	raw, _ := json.Marshal(e["relations"])
	var rels []policies.Relation
	json.Unmarshal(raw, &rels)
	return rels
}

// Env is the environment a target's script runs with.
func (t Target) Env() []string {
	return []string{"BACKLOT_ENTITY_REF=" + t.Ref, "BACKLOT_ENTITY_NAME=" + t.Name, "BACKLOT_OWNER=" + t.Owner}
}

// PullRequest renders the spec's pull request title and body for a target.
func (s *Spec) PullRequest(t Target) (title, body string, err error) {
	vars := map[string]any{"entity": t.Entity}
	for _, p := range []struct {
		dst  *string
		text string
	}{{&title, s.Spec.PullRequest.Title}, {&body, s.Spec.PullRequest.Body}} {
		tpl, err := policies.ParseTemplate(p.text)
		if err != nil {
			return "", "", err
		}
		if *p.dst, err = tpl.RenderString(vars); err != nil {
			return "", "", err
		}
	}
	return title, body, nil
}
