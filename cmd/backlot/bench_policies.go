package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// benchPolicyYAML is a policy of 20 checks of the kinds the example policies
// use (field presence, comparisons, annotations, links, relations, facts) over
// every component.
const benchPolicyYAML = `apiVersion: backlot.dev/v1alpha1
kind: Policy
metadata: {name: bench-20, title: Bench (20 checks)}
spec:
  selector: entity.kind == "Component"
  levels: [bronze, silver, gold, platinum]
  checks:
    - {id: c01, level: bronze, rule: 'has(entity.spec.owner) && entity.spec.owner != ""'}
    - {id: c02, level: bronze, rule: 'has(entity.spec.lifecycle) && entity.spec.lifecycle in ["experimental", "production", "deprecated"]'}
    - {id: c03, level: bronze, rule: 'has(entity.spec.system) && entity.spec.system != ""'}
    - {id: c04, level: bronze, rule: 'entity.?spec.?type.orValue("") in ["service", "website", "library"]'}
    - {id: c05, level: bronze, rule: 'has(entity.metadata.description) && entity.metadata.description.size() > 10'}
    - {id: c06, level: silver, rule: 'entity.?metadata.?annotations[?"github.com/project-slug"].orValue("") != ""'}
    - {id: c07, level: silver, rule: 'entity.?metadata.?annotations[?"pagerduty.com/service-id"].orValue("") != ""'}
    - {id: c08, level: silver, rule: 'entity.?metadata.?links.orValue([]).exists(l, l.?url.orValue("").contains("runbook"))'}
    - {id: c09, level: silver, rule: 'entity.?metadata.?tags.orValue([]).size() > 0'}
    - {id: c10, level: silver, rule: 'relations.exists(r, r.type == "ownedBy")'}
    - {id: c11, level: gold, rule: 'relations.all(r, r.type != "dependsOn" || !(r.targetRef in facts.?catalog.?deprecatedRefs.orValue([])))'}
    - {id: c12, level: gold, rule: 'relations.filter(r, r.type == "dependsOn").size() < 10'}
    - {id: c13, level: gold, rule: 'facts.?repo.?readme.orValue(false) == true'}
    - {id: c14, level: gold, rule: 'facts.?repo.?codeowners.orValue(false) == true'}
    - {id: c15, level: gold, rule: 'facts.?repo.?tests.orValue(false) == true'}
    - {id: c16, level: platinum, rule: '"ci" in facts && facts.ci.coverage >= 80'}
    - {id: c17, level: platinum, rule: 'facts.?ci.?mainBranchPassing.orValue(false) == true'}
    - {id: c18, level: platinum, rule: 'now - timestamp(facts.?ci.?lastBuild.orValue("1970-01-01T00:00:00Z")) < duration("720h")'}
    - {id: c19, level: platinum, rule: 'entity.metadata.name.matches("^[a-z0-9-]+$")'}
    - {id: c20, level: platinum, rule: 'entity.?spec.?lifecycle.orValue("") != "deprecated" || entity.?spec.?type.orValue("") != "service"'}
`

// policyBench is what the policies phase of the bench measured.
type policyBench struct {
	// Components is how many entities the policy rates.
	Components int `json:"components"`
	// FullSeconds is the time from registering the policy until every
	// component's verdict is readable; RatingSeconds the evaluator's share of it
	// spent rating (the rest appends and folds the badge events).
	FullSeconds   float64 `json:"fullSeconds"`
	RatingSeconds float64 `json:"ratingSeconds"`
	Evaluations   int64   `json:"evaluations"`
	// IncrementalMs is the latency of POST /api/facts about one component, which
	// answers once the component is rated again; IncrementalRatingMs the
	// evaluator's rating time of the last one.
	IncrementalMs       latency `json:"incrementalMs"`
	IncrementalRatingMs float64 `json:"incrementalRatingMs"`
}

type evaluatorStats struct {
	Evaluator struct {
		Handled         int64 `json:"handled"`
		LastRating      int64 `json:"lastRatingNanos"`
		LastEvaluations int64 `json:"lastEvaluations"`
	} `json:"evaluator"`
}

// benchPolicies registers a 20-check policy on the ingested catalog and
// measures the full evaluation, then reports facts about single components
// and measures each incremental evaluation.
func benchPolicies(c *http.Client, base, catDir string, names []string, k int, say func(string, ...any)) (*policyBench, error) {
	var comps struct {
		TotalItems int `json:"totalItems"`
	}
	if err := getJSON(c, base+"/api/catalog/entities/by-query?filter=kind=component&limit=1", &comps); err != nil {
		return nil, err
	}
	pb := &policyBench{Components: comps.TotalItems}
	file := filepath.Join(catDir, "bench-policy.yaml")
	if err := os.WriteFile(file, []byte(benchPolicyYAML), 0o644); err != nil {
		return nil, err
	}
	start := time.Now()
	if err := postBench(c, base+"/api/catalog/locations", map[string]string{"type": "file", "target": file}); err != nil {
		return nil, err
	}
	for {
		var res struct {
			Total int `json:"total"`
		}
		if err := getJSON(c, base+"/api/policies/bench-20/results?limit=1", &res); err != nil {
			return nil, err
		}
		if res.Total >= pb.Components {
			break
		}
		if time.Since(start) > 10*time.Minute {
			return nil, fmt.Errorf("policies: %d of %d components rated after 10 minutes", res.Total, pb.Components)
		}
		time.Sleep(20 * time.Millisecond)
	}
	pb.FullSeconds = time.Since(start).Seconds()
	var st evaluatorStats
	if err := getJSON(c, base+"/api/policies", &st); err != nil {
		return nil, err
	}
	pb.RatingSeconds = time.Duration(st.Evaluator.LastRating).Seconds()
	pb.Evaluations = st.Evaluator.LastEvaluations
	say("policies: %d components rated by 20 checks in %.2fs (rating %.2fs of it, %d evaluations)", pb.Components, pb.FullSeconds, pb.RatingSeconds, pb.Evaluations)

	var ds []float64
	for i := 0; i < k && len(names) > 0; i++ {
		body := map[string]any{"items": []map[string]any{{"entity": "component:default/" + names[i%len(names)], "source": "ci",
			"facts": map[string]any{"coverage": 50 + 40*(i%2), "mainBranchPassing": true}}}}
		t := time.Now()
		if err := postBench(c, base+"/api/facts", body); err != nil {
			return nil, err
		}
		ds = append(ds, float64(time.Since(t).Microseconds())/1000)
	}
	pb.IncrementalMs = percentiles(ds)
	if err := getJSON(c, base+"/api/policies", &st); err != nil {
		return nil, err
	}
	pb.IncrementalRatingMs = float64(st.Evaluator.LastRating) / 1e6
	say("policies: a fact about one component rated and readable p50 %.1fms p95 %.1fms (rating %.2fms)", pb.IncrementalMs.P50, pb.IncrementalMs.P95, pb.IncrementalRatingMs)
	return pb, nil
}

func postBench(c *http.Client, u string, body any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	resp, err := c.Post(u, "application/json", bytes.NewReader(raw))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("POST %s: %s: %s", u, resp.Status, strings.TrimSpace(string(b)))
	}
	return nil
}
