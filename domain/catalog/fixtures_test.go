package catalog_test

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/catalog"
)

// fixturesDir finds Backstage's example entities in ../shared beside the repository.
func fixturesDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("BACKLOT_FIXTURES"); d != "" {
		return d
	}
	d, err := filepath.Abs("../../../shared/fixtures/backstage")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d); err != nil {
		t.Fatalf("Backstage fixtures not found at %s (set BACKLOT_FIXTURES): %v", d, err)
	}
	return d
}

// readFixture parses every document of a fixture file, resolving relative $text
// placeholders from disk. Remote placeholder targets cannot be fetched here; they
// resolve to a marker text, as a reachable host would answer with the file.
func readFixture(t *testing.T, path string) ([]*catalog.Entity, []error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := catalog.ParseDocuments(path, data, catalog.Limits{})
	if err != nil {
		return nil, []error{err}
	}
	var ents []*catalog.Entity
	var errs []error
	for _, d := range docs {
		if d.Err != nil {
			errs = append(errs, d.Err)
			continue
		}
		body, err := catalog.ResolvePlaceholders(d.Body, func(target string) ([]byte, string, error) {
			if strings.Contains(target, "://") {
				return []byte("remote definition of " + target), target, nil
			}
			p := filepath.Join(filepath.Dir(path), target)
			b, err := os.ReadFile(p)
			return b, p, err
		}, catalog.Limits{})
		if err != nil {
			errs = append(errs, &catalog.DocumentError{File: path, Document: d.Index, Err: err})
			continue
		}
		e, err := catalog.NewEntity(body)
		if err != nil {
			var ve *catalog.ValidationError
			field := ""
			if errors.As(err, &ve) {
				field = ve.Fields[0].Field
			}
			errs = append(errs, &catalog.DocumentError{File: path, Document: d.Index, Line: d.Line, Field: field, Err: err})
			continue
		}
		ents = append(ents, e)
	}
	return ents, errs
}

func TestBackstageFixturesAreAcceptedOrRejectedAsBackstageDoes(t *testing.T) {
	t.Parallel()
	root := fixturesDir(t)
	var files []string
	for _, sub := range []string{"examples"} {
		err := filepath.WalkDir(filepath.Join(root, sub), func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(p, ".yaml") && !strings.HasSuffix(p, ".oas.yaml") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	files = append(files, filepath.Join(root, "templates/example-nodejs-template/template.yaml"),
		filepath.Join(root, "templates/golang-template/template.yaml"))
	if len(files) < 50 {
		t.Fatalf("found only %d fixture files under %s", len(files), root)
	}
	// What Backstage's current schemas reject: the invalid example, and the older
	// top-level copies of API files that predate the required lifecycle, owner and
	// definition fields.
	rejected := map[string][]string{
		"examples/components/invalid-component.yaml": {"metadata.name", "metadata.tags[1]"},
		"examples/hello-world-api.yaml":              {"spec.lifecycle", "spec.owner"},
		"examples/petstore-api.yaml":                 {"spec.lifecycle", "spec.owner"},
		"examples/streetlights-api.yaml":             {"spec.lifecycle", "spec.owner"},
		"examples/spotify-api.yaml":                  {"spec.definition"},
	}
	kinds := map[string]int{}
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		t.Run(rel, func(t *testing.T) {
			ents, errs := readFixture(t, f)
			wantFields, wantReject := rejected[rel]
			if !wantReject {
				for _, err := range errs {
					t.Errorf("Backstage accepts %s but Backlot rejected it: %v", rel, err)
				}
				if len(ents) == 0 {
					t.Errorf("%s yielded no entity", rel)
				}
				for _, e := range ents {
					if strings.HasPrefix(rel, "examples/") && filepath.Dir(rel) != "examples" {
						kinds[e.Kind()]++
					}
					checkRelationPairs(t, e)
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("want one rejected document in %s, got %d errors: %v", rel, len(errs), errs)
			}
			msg := errs[0].Error()
			for _, want := range append(wantFields, f, "document 0") {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not name %q", msg, want)
				}
			}
		})
	}
	t.Run("kinds", func(t *testing.T) {
		// Every kind the subfolders hold was accepted at least once.
		for _, k := range []string{"Component", "API", "Resource", "System", "Domain", "Group", "User", "Location", "Environment", "AiResource"} {
			if kinds[k] == 0 && k != "Location" {
				t.Errorf("no %s entity accepted from the fixtures (accepted: %v)", k, kinds)
			}
		}
	})
}

// checkRelationPairs asserts every relation comes with its reverse.
func checkRelationPairs(t *testing.T, e *catalog.Entity) {
	t.Helper()
	set := map[string]bool{}
	for _, r := range e.Relations() {
		set[r.Source.Key()+"|"+r.Type+"|"+r.Target.Key()] = true
	}
	for _, r := range e.Relations() {
		rev := catalog.RelationPairs[r.Type]
		if rev == "" {
			t.Errorf("%s: relation type %q has no pair", e.Ref(), r.Type)
			continue
		}
		if !set[r.Target.Key()+"|"+rev+"|"+r.Source.Key()] {
			t.Errorf("%s: relation %s %s %s lacks its reverse %s", e.Ref(), r.Source, r.Type, r.Target, rev)
		}
	}
}

func relationsOf(e *catalog.Entity) []string {
	var out []string
	for _, r := range e.Relations() {
		if r.Source.Equal(e.Ref()) {
			out = append(out, r.Type+" "+r.Target.String())
		}
	}
	sort.Strings(out)
	return out
}

func TestFixtureRelationsMatchBackstage(t *testing.T) {
	t.Parallel()
	root := fixturesDir(t)
	tests := []struct {
		name string
		file string
		ref  string
		want []string
	}{
		{"owner and system", "examples/components/artist-lookup-component.yaml", "component:default/artist-lookup",
			[]string{"ownedBy group:default/team-a", "partOf system:default/artist-engagement-portal"}},
		{"other namespace keeps explicit owner namespace", "examples/components/different-namespace.yaml", "component:alternative/different-namespace",
			[]string{"ownedBy group:default/team-a"}},
		{"group parent", "examples/acme/team-a-group.yaml", "group:default/team-a",
			[]string{"childOf group:default/backstage"}},
		{"user membership", "examples/acme/team-a-group.yaml", "user:default/breanna.davison",
			[]string{"memberOf group:default/team-a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ents, errs := readFixture(t, filepath.Join(root, tc.file))
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			for _, e := range ents {
				if e.Ref().Key() != tc.ref {
					continue
				}
				got := relationsOf(e)
				if strings.Join(got, ",") != strings.Join(tc.want, ",") {
					t.Fatalf("relations of %s:\n got  %v\n want %v", tc.ref, got, tc.want)
				}
				return
			}
			t.Fatalf("%s not found in %s", tc.ref, tc.file)
		})
	}
}
