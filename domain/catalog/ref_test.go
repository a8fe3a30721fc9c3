package catalog_test

import (
	"testing"

	"backlot.dev/backlot/domain/catalog"
)

func TestParseRef(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		in       string
		defaults catalog.RefDefaults
		want     string
		wantErr  bool
	}{
		{"full", "Component:Default/Checkout", catalog.RefDefaults{}, "component:default/Checkout", false},
		{"default kind", "team-a", catalog.RefDefaults{Kind: "Group"}, "group:default/team-a", false},
		{"default namespace from referrer", "team-a", catalog.RefDefaults{Kind: "Group", Namespace: "ops"}, "group:ops/team-a", false},
		{"explicit namespace wins", "default/team-a", catalog.RefDefaults{Kind: "Group", Namespace: "ops"}, "group:default/team-a", false},
		{"explicit kind wins", "user:guest", catalog.RefDefaults{Kind: "Group"}, "user:default/guest", false},
		{"missing kind", "checkout", catalog.RefDefaults{}, "", true},
		{"empty", "", catalog.RefDefaults{Kind: "Group"}, "", true},
		{"empty name", "group:default/", catalog.RefDefaults{}, "", true},
		{"empty namespace", "group:/x", catalog.RefDefaults{}, "", true},
		// Backstage's parseEntityRef splits at the first ':' and the first '/',
		// and keeps the rest as the name, whatever it holds.
		{"colon in name", "a:b:c", catalog.RefDefaults{}, "a:default/b:c", false},
		{"slash in name", "group:a/b/c", catalog.RefDefaults{}, "group:a/b/c", false},
		{"slash before colon", "ops/a:b", catalog.RefDefaults{Kind: "Group"}, "group:ops/a:b", false},
		{"slash before colon without default kind", "ops/a:b", catalog.RefDefaults{}, "", true},
		{"empty kind", ":x", catalog.RefDefaults{Kind: "Group"}, "", true},
		{"empty namespace without kind", "/x", catalog.RefDefaults{Kind: "Group"}, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := catalog.ParseRef(tc.in, tc.defaults)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ParseRef(%q) = %v, want error", tc.in, r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.String() != tc.want {
				t.Fatalf("ParseRef(%q) = %s, want %s", tc.in, r, tc.want)
			}
		})
	}
	if !mustParseRef(t, "Component:default/A").Equal(mustParseRef(t, "component:DEFAULT/a")) {
		t.Fatal("refs must compare case-insensitively")
	}
}

func TestFormatRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fn   func(string) bool
		in   string
		want bool
	}{
		{"name ok", catalog.IsValidObjectName, "my-service_v2.0", true},
		{"name space", catalog.IsValidObjectName, "invalid component", false},
		{"name too long", catalog.IsValidObjectName, string(make([]byte, 64)), false},
		{"name leading dash", catalog.IsValidObjectName, "-x", false},
		{"namespace upper", catalog.IsValidNamespace, "Default", false},
		{"namespace ok", catalog.IsValidNamespace, "team-ops", true},
		{"tag ok", catalog.IsValidTag, "c++", true},
		{"tag space", catalog.IsValidTag, "go 1.15", false},
		{"tag upper", catalog.IsValidTag, "Java", false},
		{"label key prefix", catalog.IsValidLabelKey, "backstage.io/owner", true},
		{"label key bad prefix", catalog.IsValidLabelKey, "Bad_Prefix/x", false},
		{"label key two slashes", catalog.IsValidLabelKey, "a/b/c", false},
		{"label value empty", catalog.IsValidLabelValue, "", true},
		{"label value bad", catalog.IsValidLabelValue, "go1.15.3 x", false},
		{"kind ok", catalog.IsValidKind, "Component", true},
		{"kind digit first", catalog.IsValidKind, "1Kind", false},
		{"api version", catalog.IsValidAPIVersion, "backstage.io/v1alpha1", true},
		{"api version bad", catalog.IsValidAPIVersion, "backstage.io/v1/x", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.fn(tc.in); got != tc.want {
				t.Fatalf("%q: got %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestSourceLocation(t *testing.T) {
	for in, want := range map[string]string{
		"url:https://github.com/o/r/blob/main/catalog-info.yaml":          "url:https://github.com/o/r/tree/main/",
		"url:https://github.com/o/r/blob/main/svc/a/catalog-info.yaml":    "url:https://github.com/o/r/tree/main/svc/a/",
		"url:file:///srv/git/o/r.git?ref=main&path=catalog-info.yaml":     "url:file:///srv/git/o/r.git?ref=main",
		"url:file:///srv/git/o/r.git?ref=main&path=svc/catalog-info.yaml": "url:file:///srv/git/o/r.git?ref=main&path=svc/",
		"file:/srv/catalog/all.yaml":                                      "",
	} {
		if got := catalog.SourceLocation(in); got != want {
			t.Errorf("SourceLocation(%q) = %q, want %q", in, got, want)
		}
	}
}

// mustParseRef is ParseRef for references known to be valid; it fails the test
// on error.
func mustParseRef(t *testing.T, s string) catalog.Ref {
	t.Helper()
	r, err := catalog.ParseRef(s, catalog.RefDefaults{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
