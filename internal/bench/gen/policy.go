package gen

import (
	"encoding/json"
	"fmt"
)

// PolicyRules are the 20 checks of the benchmark policy, of the kinds the
// example policies use: field presence, comparisons, annotations, links,
// relations and facts. The first five make bronze, the next five silver, then
// gold and platinum.
var PolicyRules = []string{
	`has(entity.spec.owner) && entity.spec.owner != ""`,
	`has(entity.spec.lifecycle) && entity.spec.lifecycle in ["experimental", "production", "deprecated"]`,
	`has(entity.spec.system) && entity.spec.system != ""`,
	`entity.?spec.?type.orValue("") in ["service", "website", "library"]`,
	`has(entity.metadata.description) && entity.metadata.description.size() > 10`,
	`entity.?metadata.?annotations[?"github.com/project-slug"].orValue("") != ""`,
	`entity.?metadata.?annotations[?"pagerduty.com/service-id"].orValue("") != ""`,
	`entity.?metadata.?links.orValue([]).exists(l, l.?url.orValue("").contains("runbook"))`,
	`entity.?metadata.?tags.orValue([]).size() > 0`,
	`relations.exists(r, r.type == "ownedBy")`,
	`relations.all(r, r.type != "dependsOn" || !(r.targetRef in facts.?catalog.?deprecatedRefs.orValue([])))`,
	`relations.filter(r, r.type == "dependsOn").size() < 10`,
	`facts.?repo.?readme.orValue(false) == true`,
	`facts.?repo.?codeowners.orValue(false) == true`,
	`facts.?repo.?tests.orValue(false) == true`,
	`facts.?ci.?coverage.orValue(0) >= 80`,
	`facts.?ci.?mainBranchPassing.orValue(false) == true`,
	`now - timestamp(facts.?ci.?lastBuild.orValue("1970-01-01T00:00:00Z")) < duration("720h")`,
	`entity.metadata.name.matches("^[a-z0-9-]+$")`,
	`entity.?spec.?lifecycle.orValue("") != "deprecated" || entity.?spec.?type.orValue("") != "service"`,
}

// Policy returns the benchmark policy named name as a Policy entity's body:
// the PolicyRules over every component, on four levels.
func Policy(name string) map[string]any {
	levels := []any{"bronze", "silver", "gold", "platinum"}
	checks := make([]any, len(PolicyRules))
	for i, r := range PolicyRules {
		checks[i] = map[string]any{"id": fmt.Sprintf("c%02d", i+1), "level": levels[i/5], "rule": r}
	}
	return map[string]any{"apiVersion": "backlot.dev/v1alpha1", "kind": "Policy",
		"metadata": map[string]any{"name": name, "title": "Bench (20 checks)"},
		"spec":     map[string]any{"selector": `entity.kind == "Component"`, "levels": levels, "checks": checks}}
}

// PolicyJSON returns Policy(name) as a JSON document (which is YAML too), to
// write as a catalog file.
func PolicyJSON(name string) []byte {
	b, _ := json.MarshalIndent(Policy(name), "", "  ")
	return b
}
