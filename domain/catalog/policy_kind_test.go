package catalog

import (
	"os"
	"strings"
	"testing"
)

// TestPolicyDocumentsAreCatalogEntities reads the example policies as catalog
// files: they are valid entities of kind Policy; one without checks is not.
func TestPolicyDocumentsAreCatalogEntities(t *testing.T) {
	for _, f := range []string{"../../examples/policies/test-certification.yaml", "../../examples/policies/production-readiness.yaml"} {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs, err := ParseDocuments(f, raw, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			if d.Err != nil {
				t.Fatalf("%s: %v", f, d.Err)
			}
			e, err := NewEntity(d.Body)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if e.Ref().Kind != "Policy" {
				t.Fatalf("%s: kind %s", f, e.Ref().Kind)
			}
		}
	}
	bad := "apiVersion: backlot.dev/v1alpha1\nkind: Policy\nmetadata:\n  name: empty\nspec:\n  selector: 'true'\n  levels: [one]\n"
	docs, err := ParseDocuments("bad.yaml", []byte(bad), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0].Err != nil {
		t.Fatalf("parse: %+v", docs)
	}
	if _, err := NewEntity(docs[0].Body); err == nil || !strings.Contains(err.Error(), "checks") {
		t.Fatalf("a policy without checks: %v", err)
	}
}
