package migration_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/workflows/migration"
	"go.yaml.in/yaml/v3"
)

// FuzzParseSpec feeds arbitrary documents to Parse: it never panics, a
// refusal is invalid input naming the migration and field, and an accepted
// spec validates again unchanged and survives a round trip through YAML and
// through JSON.
func FuzzParseSpec(f *testing.F) {
	f.Add([]byte(issueSpec))
	f.Add([]byte(`{"apiVersion":"backlot.dev/v1alpha1","kind":"Migration","metadata":{"name":"m"},"spec":{"targets":{"refs":["component:default/a"]},"change":{"script":"true"},"pullRequest":{"branch":"b","title":"t"}}}`))
	f.Add([]byte("apiVersion: backlot.dev/v1alpha1\nkind: Migration\nmetadata: {name: BAD}\nspec: {unknown: 1}\n"))
	f.Add([]byte("spec:\n  rollout: {waves: [0, -1], maxConcurrent: 5000, stopOnFailureRate: 2}\n  change: {timeout: 99h}\n  deadline: tomorrow\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := migration.Parse(data)
		if err != nil {
			if !errors.Is(err, fault.Invalid) {
				t.Fatalf("refusal %v is not invalid input", err)
			}
			var fe *migration.FieldError
			if !errors.As(err, &fe) || fe.Migration == "" || fe.Field == "" {
				t.Fatalf("refusal %v names no migration or field", err)
			}
			return
		}
		// An empty list is left out of YAML and JSON (omitempty), so the
		// round trips compare specs with empty lists as nil ones.
		if len(s.Spec.Targets.Refs) == 0 {
			s.Spec.Targets.Refs = nil
		}
		if len(s.Spec.Rollout.Waves) == 0 {
			s.Spec.Rollout.Waves = nil
		}
		again := *s
		again.Spec.Targets.Refs = slices.Clone(s.Spec.Targets.Refs)
		again.Spec.Rollout.Waves = slices.Clone(s.Spec.Rollout.Waves)
		if err := again.Validate(); err != nil {
			t.Fatalf("accepted spec does not validate again: %v", err)
		}
		if !reflect.DeepEqual(&again, s) {
			t.Fatalf("validating again changed the spec:\n%+v\n%+v", s, &again)
		}
		y, err := yaml.Marshal(s)
		if err != nil {
			t.Fatalf("accepted spec does not marshal to YAML: %v", err)
		}
		fromYAML, err := migration.Parse(y)
		if err != nil {
			t.Fatalf("accepted spec's YAML is refused: %v\n%s", err, y)
		}
		if !reflect.DeepEqual(fromYAML, s) {
			t.Fatalf("YAML round trip changed the spec:\n%+v\n%+v", s, fromYAML)
		}
		j, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("accepted spec does not marshal to JSON: %v", err)
		}
		fromJSON, err := migration.Parse(j)
		if err != nil {
			t.Fatalf("accepted spec's JSON is refused: %v\n%s", err, j)
		}
		if !reflect.DeepEqual(fromJSON, s) {
			t.Fatalf("JSON round trip changed the spec:\n%+v\n%+v", s, fromJSON)
		}
	})
}
