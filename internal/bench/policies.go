package bench

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

	"backlot.dev/backlot/internal/bench/gen"
)

// PolicyResult is what the policies phase of the catalog bench measured.
type PolicyResult struct {
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
	IncrementalMs       Latency `json:"incrementalMs"`
	IncrementalRatingMs float64 `json:"incrementalRatingMs"`
}

type evaluatorStats struct {
	Evaluator struct {
		LastRating      int64 `json:"lastRatingNanos"`
		LastEvaluations int64 `json:"lastEvaluations"`
	} `json:"evaluator"`
}

// benchPolicies registers a 20-check policy on the ingested catalog and
// measures the full evaluation, then reports facts about single components
// and measures each incremental evaluation.
func benchPolicies(c *http.Client, base, catDir string, names []string, k int, say func(string, ...any)) (*PolicyResult, error) {
	var comps struct {
		TotalItems int `json:"totalItems"`
	}
	if err := GetJSON(c, base+"/api/catalog/entities/by-query?filter=kind=component&limit=1", &comps); err != nil {
		return nil, err
	}
	pb := &PolicyResult{Components: comps.TotalItems}
	file := filepath.Join(catDir, "bench-policy.yaml")
	if err := os.WriteFile(file, gen.PolicyJSON("bench-20"), 0o644); err != nil {
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
		if err := GetJSON(c, base+"/api/policies/bench-20/results?limit=1", &res); err != nil {
			return nil, err
		}
		if res.Total >= pb.Components {
			break
		}
		if time.Since(start) > 10*time.Minute {
			return nil, fmt.Errorf("policies: %d of %d components rated after 10 minutes", res.Total, pb.Components)
		}
		time.Sleep(100 * time.Millisecond)
	}
	pb.FullSeconds = time.Since(start).Seconds()
	// The verdicts are readable as soon as the badge read model has folded
	// them, a moment before the evaluator records the evaluation's figures:
	// wait for them (the wait is not counted above).
	var st evaluatorStats
	for wait := time.Now(); ; {
		if err := GetJSON(c, base+"/api/policies", &st); err != nil {
			return nil, err
		}
		if st.Evaluator.LastEvaluations >= int64(pb.Components) {
			break
		}
		if time.Since(wait) > time.Minute {
			return nil, fmt.Errorf("policies: the evaluator recorded %d evaluations a minute after the %d verdicts were readable", st.Evaluator.LastEvaluations, pb.Components)
		}
		time.Sleep(20 * time.Millisecond)
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
	if err := GetJSON(c, base+"/api/policies", &st); err != nil {
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
