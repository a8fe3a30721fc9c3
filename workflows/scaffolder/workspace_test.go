package scaffolder_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"backlot.dev/backlot/internal/testenv/fixtures"
	"backlot.dev/backlot/workflows/scaffolder"
)

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestFetchTemplateRendersTheFixtureSkeleton renders the Gin fixture's
// skeleton and a skeleton with templated paths and files copied as they are.
func TestFetchTemplateRendersTheFixtureSkeleton(t *testing.T) {
	t.Parallel()
	w := scaffolder.Workspace{Dir: t.TempDir()}
	values := map[string]any{"component_id": "ledger", "owner": "group:default/team-a", "description": "Books parcels",
		"destination": map[string]any{"owner": "northwind", "repo": "ledger"}}
	files, err := scaffolder.FetchTemplate(w, filepath.Join(fixtures.Template("gin-service"), "skeleton"), ".", values, nil)
	slices.Sort(files)
	if err != nil || !slices.Equal(files, []string{"catalog-info.yaml", "go.mod", "main.go"}) {
		t.Fatalf("files %v %v", files, err)
	}
	if got := read(t, filepath.Join(w.Dir, "catalog-info.yaml")); !strings.Contains(got, "  name: \"ledger\"\n  description: \"Books parcels\"\n") {
		t.Fatalf("rendered:\n%s", got)
	}

	src := t.TempDir()
	writeTree(t, src, map[string]string{
		"cmd/${{ values.component_id }}/main.go":    "package main // ${{ values.component_id }}\n",
		".github/workflows/ci.yml":                  "run: ${{ github.sha }}\n",
		"${{ values.docs }}docs/index.md":           "# docs\n",
		"{% if values.docs %}mkdocs.yml{% endif %}": "site_name: ${{ values.component_id }}\n",
	})
	files, err = scaffolder.FetchTemplate(w, src, "svc", values, []string{".github/workflows/*"})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	if !slices.Equal(files, []string{".github/workflows/ci.yml", "cmd/ledger/main.go", "docs/index.md"}) {
		t.Fatalf("files %v", files)
	}
	if got := read(t, filepath.Join(w.Dir, "svc/.github/workflows/ci.yml")); got != "run: ${{ github.sha }}\n" {
		t.Fatalf("copied without templating: %q", got)
	}
	if got := read(t, filepath.Join(w.Dir, "svc/cmd/ledger/main.go")); got != "package main // ledger\n" {
		t.Fatalf("rendered: %q", got)
	}
}

func TestWorkspaceConfinesPaths(t *testing.T) {
	t.Parallel()
	w := scaffolder.Workspace{Dir: t.TempDir()}
	os.Symlink("/etc", filepath.Join(w.Dir, "link"))
	for _, bad := range []string{"/etc/passwd", "../x", "a/../../x", "link/passwd"} {
		if _, err := w.Path(bad); err == nil {
			t.Errorf("%q was allowed", bad)
		}
	}
	src := t.TempDir()
	writeTree(t, src, map[string]string{"${{ values.p }}": "x"})
	if _, err := scaffolder.FetchTemplate(w, src, ".", map[string]any{"p": "../escape"}, nil); err == nil {
		t.Error("a rendered path left the workspace")
	}
	writeTree(t, w.Dir, map[string]string{"a.txt": "a", "b.txt": "b", "dir/c.txt": "c"})
	if err := scaffolder.Rename(w, "a.txt", "b.txt", false); err == nil {
		t.Error("rename over an existing file without overwrite")
	}
	for range 2 { // a retry of a done rename succeeds
		if err := scaffolder.Rename(w, "a.txt", "moved/a.txt", false); err != nil {
			t.Fatal(err)
		}
	}
	if err := scaffolder.Delete(w, []string{"dir", "missing"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(w.Dir, "dir")); !os.IsNotExist(err) {
		t.Error("dir not deleted")
	}
	if err := scaffolder.Delete(w, []string{"."}); err == nil {
		t.Error("deleting the whole workspace")
	}
}
