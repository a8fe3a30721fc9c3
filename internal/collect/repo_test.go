package collect

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestRepoFacts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		paths []string
		// want lists the keys expected true; every other boolean fact must be false.
		want []string
	}{
		{name: "empty", paths: nil},
		{name: "readme md", paths: []string{"README.md"}, want: []string{FactReadme}},
		{name: "readme bare", paths: []string{"README"}, want: []string{FactReadme}},
		{name: "readme rst", paths: []string{"README.rst"}, want: []string{FactReadme}},
		{name: "readme txt", paths: []string{"README.txt"}, want: []string{FactReadme}},
		{name: "readme lower case", paths: []string{"readme.md"}, want: []string{FactReadme}},
		{name: "readme mixed case", paths: []string{"ReadMe.Markdown"}, want: []string{FactReadme}},
		{name: "readme with leading dot slash", paths: []string{"./README.md"}, want: []string{FactReadme}},
		{name: "readme with leading slash", paths: []string{"/README.md"}, want: []string{FactReadme}},
		{name: "readme not at root", paths: []string{"pkg/README.md"}},
		{name: "readme other extension", paths: []string{"README.go", "READMEFIRST"}},
		{name: "readme outside root", paths: []string{"../README.md", "a/../../README.md"}},
		{name: "codeowners root", paths: []string{"CODEOWNERS"}, want: []string{FactCodeowners}},
		{name: "codeowners github", paths: []string{".github/CODEOWNERS"}, want: []string{FactCodeowners}},
		{name: "codeowners gitlab", paths: []string{".gitlab/CODEOWNERS"}, want: []string{FactCodeowners}},
		{name: "codeowners docs", paths: []string{"docs/CODEOWNERS"}, want: []string{FactCodeowners, FactDocs}},
		{name: "codeowners elsewhere", paths: []string{"pkg/CODEOWNERS", ".github/workflows/CODEOWNERS", "codeowners"}},
		{name: "go test", paths: []string{"internal/x/x_test.go"}, want: []string{FactTests}},
		{name: "go test name alone", paths: []string{"_test.go"}},
		{name: "go source", paths: []string{"main.go", "testing.go", "test.go"}},
		{name: "js test", paths: []string{"src/app.test.js"}, want: []string{FactTests}},
		{name: "ts test", paths: []string{"src/app.test.ts"}, want: []string{FactTests}},
		{name: "tsx test", paths: []string{"src/App.test.tsx"}, want: []string{FactTests}},
		{name: "jsx test", paths: []string{"src/App.test.jsx"}, want: []string{FactTests}},
		{name: "js spec", paths: []string{"src/app.spec.js"}, want: []string{FactTests}},
		{name: "ts spec", paths: []string{"src/app.spec.ts"}, want: []string{FactTests}},
		{name: "js test suffix alone", paths: []string{"src/.test.js"}},
		{name: "js lookalikes", paths: []string{"src/test.js", "src/app.testing.js", "src/contest.js"}},
		{name: "python test prefix", paths: []string{"pkg/test_views.py"}, want: []string{FactTests}},
		{name: "python test suffix", paths: []string{"pkg/views_test.py"}, want: []string{FactTests}},
		{name: "python lookalikes", paths: []string{"pkg/test_.py", "pkg/testviews.py", "pkg/latest.py"}},
		{name: "java src test", paths: []string{"src/test/java/com/acme/CartTest.java"}, want: []string{FactTests}},
		{name: "kotlin nested module", paths: []string{"cart/src/test/kotlin/CartTest.kt"}, want: []string{FactTests}},
		{name: "java main", paths: []string{"src/main/java/com/acme/Cart.java"}},
		{name: "tests folder", paths: []string{"tests/fixtures.json"}, want: []string{FactTests}},
		{name: "test folder", paths: []string{"test/helper.rb"}, want: []string{FactTests}},
		{name: "nested jest folder", paths: []string{"web/src/__tests__/x.js"}, want: []string{FactTests}},
		{name: "spec folder", paths: []string{"spec/models/user_spec.rb"}, want: []string{FactTests}},
		{name: "file named tests", paths: []string{"tests", "pkg/spec"}},
		{name: "folder lookalikes", paths: []string{"testdata/a.json", "contests/a.txt", "Tests2/a"}},
		{name: "github workflow yml", paths: []string{".github/workflows/ci.yml"}, want: []string{FactCI}},
		{name: "github workflow yaml", paths: []string{".github/workflows/release.yaml"}, want: []string{FactCI}},
		{name: "github workflow other", paths: []string{".github/workflows/README.md", ".github/workflows/sub/ci.yml", ".github/workflows/.yml", ".github/dependabot.yml"}},
		{name: "gitlab ci", paths: []string{".gitlab-ci.yml"}, want: []string{FactCI}},
		{name: "jenkinsfile", paths: []string{"Jenkinsfile"}, want: []string{FactCI}},
		{name: "circleci", paths: []string{".circleci/config.yml"}, want: []string{FactCI}},
		{name: "azure pipelines", paths: []string{"azure-pipelines.yml"}, want: []string{FactCI}},
		{name: "ci files not at root", paths: []string{"sub/.gitlab-ci.yml", "sub/Jenkinsfile", "sub/.github/workflows/ci.yml"}},
		{name: "mkdocs", paths: []string{"mkdocs.yml"}, want: []string{FactDocs}},
		{name: "docs folder", paths: []string{"docs/index.md"}, want: []string{FactDocs}},
		{name: "docs not at root", paths: []string{"pkg/docs/index.md", "docs"}},
		{
			name: "typical service",
			paths: []string{
				".github/CODEOWNERS", ".github/workflows/ci.yml", "README.md", "catalog-info.yaml",
				"docs/index.md", "go.mod", "main.go", "main_test.go", "mkdocs.yml",
			},
			want: []string{FactReadme, FactCodeowners, FactTests, FactCI, FactDocs},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := RepoFacts(tt.paths)
			want := map[string]any{
				FactReadme: false, FactCodeowners: false, FactTests: false, FactCI: false, FactDocs: false,
				FactFiles: int64(len(tt.paths)),
			}
			for _, k := range tt.want {
				want[k] = true
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("RepoFacts(%q) = %v, want %v", tt.paths, got, want)
			}
		})
	}
}

func TestRepoFactsMarshalDeterministically(t *testing.T) {
	t.Parallel()
	paths := []string{"README.md", "main_test.go", "docs/a.md", "Jenkinsfile", "CODEOWNERS"}
	first, err := json.Marshal(RepoFacts(paths))
	if err != nil {
		t.Fatal(err)
	}
	reversed := slices.Clone(paths)
	slices.Reverse(reversed)
	again, err := json.Marshal(RepoFacts(reversed))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"ci":true,"codeowners":true,"docs":true,"files":5,"readme":true,"tests":true}`
	if string(first) != want || string(again) != want {
		t.Errorf("json = %s and %s, want %s", first, again, want)
	}
	// A JSON round trip gives back the same facts, as float64 numbers.
	var back map[string]any
	if err := json.Unmarshal(first, &back); err != nil {
		t.Fatal(err)
	}
	if back[FactFiles] != float64(5) {
		t.Errorf("files after a round trip = %#v", back[FactFiles])
	}
}

// writeTree makes the files (slash paths) under dir, each holding its own name.
func writeTree(t *testing.T, dir string, files ...string) {
	t.Helper()
	for _, f := range files {
		full := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDirFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir,
		"README.md", "go.mod", "a-b.txt", "a/b.txt", "a/c/d.txt",
		".git/HEAD", ".git/objects/x", "web/node_modules/left-pad/index.js", "web/app.test.js",
		"sub/.git", "sub/x.go", ".github/workflows/ci.yml",
	)
	if err := os.MkdirAll(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	writeTree(t, outside, "secret/key.txt")
	// A link to a folder outside is listed as a path and not followed.
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	all := []string{
		".github/workflows/ci.yml", "README.md", "a-b.txt", "a/b.txt", "a/c/d.txt", "go.mod",
		"linked", "sub/x.go", "web/app.test.js",
	}

	tests := []struct {
		name string
		max  int
		want []string
	}{
		{name: "everything", max: 100, want: all},
		{name: "exactly as many as there are", max: len(all), want: all},
		// The walk enters folder a before it reaches a-b.txt; the result is sorted.
		{name: "first in walk order", max: 3, want: []string{".github/workflows/ci.yml", "README.md", "a/b.txt"}},
		{name: "then sorted", max: 5, want: []string{".github/workflows/ci.yml", "README.md", "a-b.txt", "a/b.txt", "a/c/d.txt"}},
		{name: "one", max: 1, want: []string{".github/workflows/ci.yml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DirFiles(dir, tt.max)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("DirFiles(dir, %d) = %q, want %q", tt.max, got, tt.want)
			}
			if !slices.IsSorted(got) {
				t.Errorf("DirFiles(dir, %d) = %q is not sorted", tt.max, got)
			}
		})
	}
}

func TestDirFilesThroughALinkedRoot(t *testing.T) {
	t.Parallel()
	real := t.TempDir()
	writeTree(t, real, "README.md", "pkg/x_test.go")
	link := filepath.Join(t.TempDir(), "repo")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	got, err := DirFiles(link, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"README.md", "pkg/x_test.go"}; !slices.Equal(got, want) {
		t.Errorf("DirFiles(link) = %q, want %q", got, want)
	}
}

func TestDirFilesErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, "file.txt")
	tests := []struct {
		name string
		dir  string
		max  int
		want string
	}{
		{name: "zero max", dir: dir, max: 0, want: "max must be positive"},
		{name: "negative max", dir: dir, max: -1, want: "max must be positive"},
		{name: "missing folder", dir: filepath.Join(dir, "missing"), max: 10, want: "no such file"},
		{name: "a file", dir: filepath.Join(dir, "file.txt"), max: 10, want: "is not a folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DirFiles(tt.dir, tt.max)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("DirFiles(%s, %d) = %q, %v; want an error containing %q", tt.dir, tt.max, got, err, tt.want)
			}
		})
	}
}
