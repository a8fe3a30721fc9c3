package catalog_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/catalog"
)

// fixturesDir is Larkspur Freight's catalog, the package's own testdata: a
// fictional parcel carrier whose descriptors cover every kind, every relation
// pair, the naming rules' edges and the $text, $json and $yaml placeholders.
func fixturesDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join("testdata", "catalog"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// pluginKinds are the optional kinds a Backstage catalog accepts once the
// modules that register them are installed: the fixtures hold such entities.
var pluginKinds = []string{"AiResource", "Environment", "API:mcp-server", "API:ai-model-server"}

// readFixture parses every document of a fixture file, resolving relative $text
// placeholders from disk, as a catalog with pluginKinds. Remote placeholder
// targets cannot be fetched here; they resolve to a marker text, as a
// reachable host would answer with the file.
func readFixture(t *testing.T, path string) ([]*catalog.Entity, []error) {
	t.Helper()
	kinds, err := catalog.NewKinds(pluginKinds)
	if err != nil {
		t.Fatal(err)
	}
	return readFixtureAs(t, kinds, path)
}

// readFixtureAs is readFixture for a catalog accepting kinds.
func readFixtureAs(t *testing.T, kinds *catalog.Kinds, path string) ([]*catalog.Entity, []error) {
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
		e, err := kinds.NewEntity(body)
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
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
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
	if len(files) < 50 {
		t.Fatalf("found only %d fixture files under %s", len(files), root)
	}
	// What Backstage's schemas and policies reject, with the fields the error
	// must name: every file under rejected/ holds one such document.
	rejected := map[string][]string{
		"rejected/bad-names-component.yaml":            {"metadata.name", "metadata.tags[1]"},
		"rejected/legacy-tracking-api.yaml":            {"spec.lifecycle", "spec.owner"},
		"rejected/legacy-quotes-api.yaml":              {"spec.lifecycle", "spec.owner"},
		"rejected/api-without-definition.yaml":         {"spec.definition"},
		"rejected/name-too-long-component.yaml":        {"metadata.name"},
		"rejected/trailing-separator-component.yaml":   {"metadata.name"},
		"rejected/upper-case-namespace-component.yaml": {"metadata.namespace"},
		"rejected/double-dash-tag-component.yaml":      {"metadata.tags[0]"},
		"rejected/bad-label-value-component.yaml":      {"metadata.labels.size"},
		"rejected/bad-annotation-key-component.yaml":   {"metadata.annotations.Larkspur_Example/pager"},
		"rejected/group-without-children.yaml":         {"spec.children"},
		"rejected/template-without-steps.yaml":         {"spec.steps"},
		"rejected/wrong-api-version-component.yaml":    {"apiVersion"},
		"rejected/link-not-a-url-component.yaml":       {"metadata.links[0].url"},
		"rejected/location-without-spec.yaml":          {"spec", "is required for kind Location"},
		"rejected/lower-case-kind-component.yaml":      {"kind", "did you mean Component"},
		"rejected/declared-relations-component.yaml":   {"relations", "unknown root field"},
		"rejected/empty-system-component.yaml":         {"spec.system", "must be a string"},
		"rejected/rule-without-category.yaml":          {"spec.category"},
	}
	seen := map[string]bool{}
	kinds := map[string]int{}
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		rel = filepath.ToSlash(rel)
		t.Run(rel, func(t *testing.T) {
			ents, errs := readFixture(t, f)
			wantFields, wantReject := rejected[rel]
			if !wantReject {
				if strings.HasPrefix(rel, "rejected/") {
					t.Fatalf("%s is under rejected/ but has no expected error", rel)
				}
				for _, err := range errs {
					t.Errorf("Backstage accepts %s but Backlot rejected it: %v", rel, err)
				}
				if len(ents) == 0 {
					t.Errorf("%s yielded no entity", rel)
				}
				for _, e := range ents {
					if strings.Contains(rel, "/") {
						kinds[e.Kind()]++
					}
					checkRelationPairs(t, e)
				}
				return
			}
			seen[rel] = true
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
	t.Run("rejected", func(t *testing.T) {
		for rel := range rejected {
			if !seen[rel] {
				t.Errorf("%s is expected to be rejected but was not read", rel)
			}
		}
	})
	t.Run("kinds", func(t *testing.T) {
		// Every kind the subfolders hold was accepted at least once.
		for _, k := range []string{"Component", "API", "Resource", "System", "Domain", "Group", "User", "Location", "Template", "Environment", "AiResource"} {
			if kinds[k] == 0 {
				t.Errorf("no %s entity accepted from the fixtures (accepted: %v)", k, kinds)
			}
		}
	})
}

// relationPairs maps every relation type to its reverse: the test's own
// table, which the kinds' relation rules must agree with.
var relationPairs = map[string]string{
	catalog.RelationOwnedBy: catalog.RelationOwnerOf, catalog.RelationOwnerOf: catalog.RelationOwnedBy,
	catalog.RelationPartOf: catalog.RelationHasPart, catalog.RelationHasPart: catalog.RelationPartOf,
	catalog.RelationDependsOn: catalog.RelationDependencyOf, catalog.RelationDependencyOf: catalog.RelationDependsOn,
	catalog.RelationProvidesAPI: catalog.RelationAPIProvidedBy, catalog.RelationAPIProvidedBy: catalog.RelationProvidesAPI,
	catalog.RelationConsumesAPI: catalog.RelationAPIConsumedBy, catalog.RelationAPIConsumedBy: catalog.RelationConsumesAPI,
	catalog.RelationParentOf: catalog.RelationChildOf, catalog.RelationChildOf: catalog.RelationParentOf,
	catalog.RelationMemberOf: catalog.RelationHasMember, catalog.RelationHasMember: catalog.RelationMemberOf,
}

// checkRelationPairs asserts every relation comes with its reverse.
func checkRelationPairs(t *testing.T, e *catalog.Entity) {
	t.Helper()
	set := map[string]bool{}
	for _, r := range e.Relations() {
		set[r.Source.Key()+"|"+r.Type+"|"+r.Target.Key()] = true
	}
	for _, r := range e.Relations() {
		rev := relationPairs[r.Type]
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
		{"owner and system", "components/tariff-tables-component.yaml", "component:default/tariff-tables",
			[]string{"ownedBy user:default/priya.raman", "partOf system:default/invoicing"}},
		{"other namespace keeps explicit owner namespace", "components/ledger-sync-component.yaml", "component:billing/ledger-sync",
			[]string{"ownedBy group:default/billing-team"}},
		{"group parent", "org/routing-team.yaml", "group:default/routing",
			[]string{"childOf group:default/engineering"}},
		{"user membership", "org/routing-team.yaml", "user:default/ada.okafor",
			[]string{"memberOf group:default/routing"}},
		{"user in two groups", "org/routing-team.yaml", "user:default/tomas.lindqvist",
			[]string{"memberOf group:default/platform", "memberOf group:default/routing"}},
		{"group children and members", "org/platform-team.yaml", "group:default/platform",
			[]string{"childOf group:default/engineering", "hasMember user:default/mei.tanaka", "hasMember user:default/tomas.lindqvist"}},
		{"organization children", "org/larkspur-org.yaml", "group:default/larkspur",
			[]string{"parentOf group:default/engineering", "parentOf group:default/operations"}},
		{"provides, consumes and depends", "components/route-optimizer-component.yaml", "component:default/route-optimizer",
			[]string{"consumesApi api:default/depot-capacity-api", "dependsOn resource:default/routes-db", "ownedBy group:default/routing",
				"partOf system:default/route-planning", "providesApi api:default/route-plans-api"}},
		{"dependency of", "components/depot-capacity-component.yaml", "component:default/depot-capacity",
			[]string{"dependencyOf component:default/route-optimizer", "ownedBy group:default/operations",
				"partOf system:default/route-planning", "providesApi api:default/depot-capacity-api"}},
		{"subcomponent", "components/geo-kit-component.yaml", "component:default/geo-kit",
			[]string{"ownedBy group:default/routing", "partOf component:default/route-optimizer"}},
		{"api owner and system", "apis/route-plans-api.yaml", "api:default/route-plans-api",
			[]string{"ownedBy group:default/routing", "partOf system:default/route-planning"}},
		{"resource depends on resource", "resources/buckets-resource.yaml", "resource:default/photos-bucket",
			[]string{"dependsOn resource:default/storage-account", "ownedBy group:default/routing"}},
		{"resource dependency of", "resources/buckets-resource.yaml", "resource:default/storage-account",
			[]string{"dependencyOf resource:default/invoices-bucket", "ownedBy group:default/platform"}},
		{"system in a domain", "systems/invoicing-system.yaml", "system:default/invoicing",
			[]string{"ownedBy group:default/billing-team", "partOf domain:default/finance"}},
		{"subdomain", "domains/last-mile-domain.yaml", "domain:default/last-mile",
			[]string{"ownedBy group:default/routing", "partOf domain:default/logistics"}},
		{"domain owned by a user", "domains/finance-domain.yaml", "domain:default/finance",
			[]string{"ownedBy user:default/priya.raman"}},
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

// TestFixturePlaceholdersAreResolved reads the fixtures whose fields come from
// $text, $json and $yaml placeholders and checks each field holds the target.
func TestFixturePlaceholdersAreResolved(t *testing.T) {
	t.Parallel()
	root := fixturesDir(t)
	tests := []struct {
		name, file string
		get        func(body map[string]any) any
		want       string
	}{
		{"$text of a local OpenAPI file", "apis/route-plans-api.yaml",
			func(b map[string]any) any { return b["spec"].(map[string]any)["definition"] }, "openapi: 3.0.3\ninfo:\n  title: Route plans"},
		{"$text of a local proto file", "apis/depot-capacity-api.yaml",
			func(b map[string]any) any { return b["spec"].(map[string]any)["definition"] }, "syntax = \"proto3\";\n\npackage larkspur.depots.v1;"},
		{"$text of a remote file", "apis/invoices-api.yaml",
			func(b map[string]any) any { return b["spec"].(map[string]any)["definition"] }, "remote definition of https://git.larkspur.example/"},
		{"$yaml of a list of links", "apis/invoices-api.yaml",
			func(b map[string]any) any { return b["metadata"].(map[string]any)["links"] }, "[map[icon:docs title:Invoice API guide url:https://docs.larkspur.example/invoices] map[title:Status url:https://status.larkspur.example]]"},
		{"$json of a profile", "org/billing-team.yaml",
			func(b map[string]any) any { return b["spec"].(map[string]any)["profile"] }, "map[displayName:Billing email:billing@larkspur.example picture:https://avatars.larkspur.example/billing.png]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ents, errs := readFixture(t, filepath.Join(root, tc.file))
			if len(errs) > 0 || len(ents) != 1 {
				t.Fatalf("%d entities, errors %v", len(ents), errs)
			}
			if got := fmt.Sprint(tc.get(ents[0].Body())); !strings.HasPrefix(got, tc.want) {
				t.Errorf("got %q, want it to start with %q", got, tc.want)
			}
		})
	}
}
