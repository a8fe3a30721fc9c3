package gen

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// entity is a parsed descriptor document.
type entity = map[string]any

// catalogFile is one parsed file of a generated catalog.
type catalogFile struct {
	name     string
	entities []entity
}

// readCatalog parses the root file and every file it targets, in target order.
func readCatalog(t *testing.T, dir string) (root entity, files []catalogFile) {
	t.Helper()
	docs := readYAML(t, filepath.Join(dir, rootFileName))
	if len(docs) != 1 {
		t.Fatalf("root file has %d documents, want 1", len(docs))
	}
	root = docs[0]
	for _, target := range strList(t, dig(root, "spec", "targets")) {
		if !strings.HasPrefix(target, "./") {
			t.Fatalf("target %q is not relative to the root file", target)
		}
		files = append(files, catalogFile{name: target, entities: readYAML(t, filepath.Join(dir, target))})
	}
	return root, files
}

func readYAML(t *testing.T, path string) []entity {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var out []entity
	for {
		var e entity
		err := dec.Decode(&e)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if e != nil {
			out = append(out, e)
		}
	}
}

func allEntities(root entity, files []catalogFile) []entity {
	all := []entity{root}
	for _, f := range files {
		all = append(all, f.entities...)
	}
	return all
}

// dig returns the value at a path of map keys, or nil.
func dig(e entity, path ...string) any {
	var v any = e
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func str(e entity, path ...string) string {
	s, _ := dig(e, path...).(string)
	return s
}

// strList returns v as a list of strings: nil for nil, one item for a string.
func strList(t *testing.T, v any) []string {
	t.Helper()
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		return []string{v}
	case []any:
		out := make([]string, len(v))
		for i, x := range v {
			s, ok := x.(string)
			if !ok {
				t.Fatalf("list item %v is %T, want string", x, x)
			}
			out[i] = s
		}
		return out
	}
	t.Fatalf("value %v is %T, want a string list", v, v)
	return nil
}

func refOf(e entity) string {
	ns := str(e, "metadata", "namespace")
	if ns == "" {
		ns = "default"
	}
	return strings.ToLower(str(e, "kind") + ":" + ns + "/" + str(e, "metadata", "name"))
}

// resolve expands a Backstage entity reference with a default kind ("" when
// the reference must name its kind) to lower-case kind:namespace/name.
func resolve(ref, defaultKind string) (string, bool) {
	kind, rest := defaultKind, ref
	if i := strings.IndexByte(rest, ':'); i >= 0 {
		kind, rest = rest[:i], rest[i+1:]
	}
	ns, name := "default", rest
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		ns, name = rest[:i], rest[i+1:]
	}
	if kind == "" || ns == "" || name == "" {
		return "", false
	}
	return strings.ToLower(kind + ":" + ns + "/" + name), true
}

// relationFields are the spec fields that name other entities, with the kind a
// short reference defaults to.
var relationFields = []struct{ field, defaultKind string }{
	{"owner", "group"},
	{"system", "system"},
	{"domain", "domain"},
	{"parent", "group"},
	{"children", "group"},
	{"memberOf", "group"},
	{"dependsOn", ""},
	{"dependencyOf", ""},
	{"providesApis", "api"},
	{"consumesApis", "api"},
}

var (
	nameRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	tagRE  = regexp.MustCompile(`^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$`)
)

func generate(t *testing.T, cfg Config) (string, Summary) {
	t.Helper()
	dir := t.TempDir()
	s, err := Generate(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return dir, s
}

func TestGenerateIsDeterministic(t *testing.T) {
	t.Parallel()
	cfg := Config{Entities: 1500, Seed: 42, EntitiesPerFile: 70}
	a, _ := generate(t, cfg)
	b, _ := generate(t, cfg)
	if diff := compareDirs(t, a, b); diff != "" {
		t.Fatalf("same seed, different output: %s", diff)
	}
	cfg.Seed = 43
	c, _ := generate(t, cfg)
	if compareDirs(t, a, c) == "" {
		t.Fatal("seeds 42 and 43 wrote the same catalog")
	}
}

// compareDirs returns "" when both directories hold the same files with the same
// bytes, else the first difference.
func compareDirs(t *testing.T, a, b string) string {
	t.Helper()
	ea, err := os.ReadDir(a)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := os.ReadDir(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(ea) != len(eb) {
		return "different number of files"
	}
	for i := range ea {
		if ea[i].Name() != eb[i].Name() {
			return "file " + ea[i].Name() + " against " + eb[i].Name()
		}
		da, _ := os.ReadFile(filepath.Join(a, ea[i].Name()))
		db, _ := os.ReadFile(filepath.Join(b, eb[i].Name()))
		if !bytes.Equal(da, db) {
			return "file " + ea[i].Name() + " differs"
		}
	}
	return ""
}

func TestGenerateCounts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     Config
		minKind map[string]int // kinds that must have at least this many
	}{
		{name: "smallest", cfg: Config{Entities: MinEntities}, minKind: map[string]int{"Location": 1, "Group": 1, "Domain": 1, "System": 1}},
		{name: "tiny", cfg: Config{Entities: 9, Seed: 1, EntitiesPerFile: 2}, minKind: map[string]int{"Group": 1, "Domain": 1, "System": 1}},
		{name: "one file", cfg: Config{Entities: 99, Seed: 2}, minKind: map[string]int{"Component": 1, "API": 1}},
		{name: "uneven last file", cfg: Config{Entities: 1234, Seed: 3, EntitiesPerFile: 100}},
		{name: "one entity per file", cfg: Config{Entities: 150, Seed: 4, EntitiesPerFile: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir, s := generate(t, tt.cfg)
			if s.Entities != tt.cfg.Entities {
				t.Errorf("Summary.Entities = %d, want %d", s.Entities, tt.cfg.Entities)
			}
			sum := 0
			for _, n := range s.ByKind {
				sum += n
			}
			if sum != tt.cfg.Entities {
				t.Errorf("ByKind %v adds up to %d, want %d", s.ByKind, sum, tt.cfg.Entities)
			}
			root, files := readCatalog(t, dir)
			if s.RootFile != filepath.Join(dir, rootFileName) {
				t.Errorf("RootFile = %s", s.RootFile)
			}
			if s.Files != len(files)+1 {
				t.Errorf("Summary.Files = %d, root lists %d files", s.Files, len(files))
			}
			perFile := tt.cfg.EntitiesPerFile
			if perFile == 0 {
				perFile = DefaultEntitiesPerFile
			}
			for i, f := range files {
				if len(f.entities) > perFile || (i < len(files)-1 && len(f.entities) != perFile) {
					t.Errorf("%s holds %d entities, want %d", f.name, len(f.entities), perFile)
				}
			}
			got := map[string]int{}
			for _, e := range allEntities(root, files) {
				got[str(e, "kind")]++
			}
			if !equalCounts(got, s.ByKind) {
				t.Errorf("files hold %v, Summary.ByKind says %v", got, s.ByKind)
			}
			for k, n := range tt.minKind {
				if got[k] < n {
					t.Errorf("%d entities of kind %s, want at least %d", got[k], k, n)
				}
			}
		})
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, n := range a {
		if b[k] != n {
			return false
		}
	}
	return true
}

func TestGenerateMix(t *testing.T) {
	t.Parallel()
	_, s := generate(t, Config{Entities: 10000, Seed: 7})
	want := map[string]int{
		"Location": 1, "Group": 200, "User": 800, "Domain": 20, "System": 200,
		"Component": 6000, "API": 2000, "Resource": 779,
	}
	if !equalCounts(s.ByKind, want) {
		t.Errorf("ByKind = %v, want %v", s.ByKind, want)
	}
}

func TestGenerateRelationsResolve(t *testing.T) {
	t.Parallel()
	dir, _ := generate(t, Config{Entities: 3000, Seed: 11, EntitiesPerFile: 128})
	root, files := readCatalog(t, dir)
	all := allEntities(root, files)

	refs := make(map[string]entity, len(all))
	for _, e := range all {
		r := refOf(e)
		if refs[r] != nil {
			t.Errorf("%s is defined twice", r)
		}
		refs[r] = e
	}
	relations := 0
	for _, e := range all {
		for _, rf := range relationFields {
			for _, target := range strList(t, dig(e, "spec", rf.field)) {
				r, ok := resolve(target, rf.defaultKind)
				if !ok {
					t.Errorf("%s: spec.%s %q is not a valid reference", refOf(e), rf.field, target)
					continue
				}
				if refs[r] == nil {
					t.Errorf("%s: spec.%s %q resolves to %s, which is not in the catalog", refOf(e), rf.field, target, r)
				}
				if r == refOf(e) {
					t.Errorf("%s: spec.%s names the entity itself", r, rf.field)
				}
				relations++
			}
		}
	}
	if relations < len(all) {
		t.Errorf("only %d relations among %d entities", relations, len(all))
	}

	// The group tree: every child names its parent back, and one root.
	roots := 0
	for _, e := range all {
		if str(e, "kind") != "Group" {
			continue
		}
		if str(e, "spec", "parent") == "" {
			roots++
		}
		for _, c := range strList(t, dig(e, "spec", "children")) {
			child := refs["group:default/"+c]
			if child != nil && str(child, "spec", "parent") != str(e, "metadata", "name") {
				t.Errorf("group %s lists child %s, whose parent is %q", refOf(e), c, str(child, "spec", "parent"))
			}
		}
	}
	if roots != 1 {
		t.Errorf("%d groups have no parent, want 1", roots)
	}
}

func TestGenerateNamesAreValid(t *testing.T) {
	t.Parallel()
	dir, _ := generate(t, Config{Entities: 3000, Seed: -5})
	root, files := readCatalog(t, dir)
	for _, e := range allEntities(root, files) {
		ref := refOf(e)
		if str(e, "apiVersion") != "backstage.io/v1alpha1" {
			t.Errorf("%s: apiVersion %q", ref, str(e, "apiVersion"))
		}
		name := str(e, "metadata", "name")
		if len(name) > 63 || !nameRE.MatchString(name) {
			t.Errorf("%s: metadata.name %q is not a valid name", ref, name)
		}
		for _, tag := range strList(t, dig(e, "metadata", "tags")) {
			if len(tag) > 63 || !tagRE.MatchString(tag) {
				t.Errorf("%s: tag %q is not valid", ref, tag)
			}
		}
		labels, _ := dig(e, "metadata", "labels").(map[string]any)
		for k, v := range labels {
			s, _ := v.(string)
			if !nameRE.MatchString(k) || !nameRE.MatchString(s) {
				t.Errorf("%s: label %s=%v is not valid", ref, k, v)
			}
		}
		switch str(e, "kind") {
		case "Component", "API":
			for _, f := range []string{"type", "lifecycle", "owner"} {
				if str(e, "spec", f) == "" {
					t.Errorf("%s: spec.%s is missing", ref, f)
				}
			}
		case "Resource", "System", "Domain":
			if str(e, "spec", "owner") == "" {
				t.Errorf("%s: spec.owner is missing", ref)
			}
		}
		if str(e, "kind") == "API" {
			var def map[string]any
			if err := yaml.Unmarshal([]byte(str(e, "spec", "definition")), &def); err != nil || def["openapi"] != "3.0.3" {
				t.Errorf("%s: spec.definition is not an OpenAPI document (%v)", ref, err)
			}
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{name: "smallest", cfg: Config{Entities: MinEntities}, ok: true},
		{name: "too few", cfg: Config{Entities: MinEntities - 1}},
		{name: "zero", cfg: Config{}},
		{name: "negative per file", cfg: Config{Entities: 10, EntitiesPerFile: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Generate(t.TempDir(), tt.cfg)
			if (err == nil) != tt.ok {
				t.Errorf("Generate(%+v) error = %v, want ok=%v", tt.cfg, err, tt.ok)
			}
		})
	}
}

func BenchmarkGenerate100k(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		if _, err := Generate(dir, Config{Entities: 100_000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
