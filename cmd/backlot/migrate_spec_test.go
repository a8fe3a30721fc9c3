package main

import (
	"encoding/json"
	"os"
	"testing"

	"backlot.dev/backlot/internal/client"
	"backlot.dev/backlot/workflows/migration"
)

// TestSpecJSONKeepsTheDeadlineADate turns the README's example migration
// into the JSON the API takes, as `backlot migrate run` does: YAML reads
// `deadline: 2027-01-31` as a timestamp, yet the server must see the date
// as written, and parse the spec.
func TestSpecJSONKeepsTheDeadlineADate(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../examples/migrations/add-codeowners.yaml")
	if err != nil {
		t.Fatal(err)
	}
	body, err := specJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Spec struct {
			Deadline string `json:"deadline"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Spec.Deadline != "2027-01-31" {
		t.Fatalf("deadline %q (%v) in %s", doc.Spec.Deadline, err, body)
	}
	if _, err := migration.Parse(body); err != nil {
		t.Fatalf("the server refuses the CLI's JSON: %v", err)
	}
}

// TestPlanFailedOnlyWhenEveryTargetFailed: a dry run fails (exit status 1)
// when every previewed target failed, not when some did.
func TestPlanFailedOnlyWhenEveryTargetFailed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		previews []string
		fails    bool
	}{
		{"all failed", []string{"boom", "boom"}, true},
		{"one failed", []string{"boom", ""}, false},
		{"none", nil, false},
	} {
		p := planOf(tc.previews)
		if got := planFailed(p) != nil; got != tc.fails {
			t.Errorf("%s: failed %v, want %v", tc.name, got, tc.fails)
		}
	}
}

// planOf is a dry run's plan whose previews have these errors ("" for a
// preview that succeeded).
func planOf(errs []string) client.MigrationPlan {
	p := client.MigrationPlan{Name: "m", DryRun: true}
	for _, e := range errs {
		p.Previews = append(p.Previews, client.MigrationPreview{Ref: "component:default/x", Error: e})
	}
	return p
}
