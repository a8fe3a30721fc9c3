package policies

import (
	"fmt"
	"strings"
	"testing"
)

func TestReadsFactsFindsTheSourcesARuleSelects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		rule string
		// reads are the sources of ci, repo, catalog it reads.
		reads string
	}{
		{"none", `entity.metadata.name != ""`, ""},
		{"field", `facts.ci.coverage > 80`, "ci"},
		{"optional field", `facts.?repo.?readme.orValue(false) == true`, "repo"},
		{"has", `has(facts.catalog)`, "catalog"},
		{"index by a constant", `facts["ci"].coverage > 80`, "ci"},
		{"optional index by a constant", `facts[?"ci"].orValue({}).size() > 0`, "ci"},
		{"two", `facts.?ci.?coverage.orValue(0) > 80 && facts.?repo.?tests.orValue(false) == true`, "ci repo"},
		{"inside a macro", `relations.all(r, !(r.targetRef in facts.?catalog.?deprecatedRefs.orValue([])))`, "catalog"},
		{"index by a variable reads all", `entity.metadata.name in facts && facts[entity.metadata.name].size() > 0`, "ci repo catalog"},
		{"iterating reads all", `facts.exists(s, s == "ci")`, "ci repo catalog"},
		{"size reads all", `facts.size() > 0`, "ci repo catalog"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Compile(policyWith("p", Check{ID: "c", Level: "bronze", Rule: tc.rule}))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range []string{"ci", "repo", "catalog"} {
				if c.ReadsFacts(s) {
					got = append(got, s)
				}
			}
			if strings.Join(got, " ") != tc.reads {
				t.Fatalf("%s reads %q, want %q", tc.rule, got, tc.reads)
			}
		})
	}
}

func TestReadsFactsOfCampaignsAndAcrossChecks(t *testing.T) {
	t.Parallel()
	p := policyWith("p2", Check{ID: "a", Level: "bronze", Rule: `facts.?ci.?passing.orValue(false) == true`},
		Check{ID: "b", Level: "bronze", Rule: `entity.kind == "Component"`})
	p.Spec.Campaigns = []Campaign{{ID: "q3", Title: "Q3", Level: "bronze", Deadline: "2027-01-01", Selector: `facts.?repo.?tests.orValue(false) == true`}}
	c, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]bool{"ci": true, "repo": true, "catalog": false} {
		if c.ReadsFacts(s) != want {
			t.Errorf("ReadsFacts(%s) = %v, want %v", s, !want, want)
		}
	}
	broken, _ := Compile(policyWith("p3", Check{ID: "a", Level: "bronze", Rule: fmt.Sprintf("facts.ci.x > %s", "(")}))
	if broken == nil || broken.ReadsFacts("ci") {
		t.Errorf("a rule that does not compile reads no facts")
	}
}
