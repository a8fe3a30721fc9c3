package scaffolder_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"backlot.dev/backlot/workflows/scaffolder"
)

var renderVars = map[string]any{
	"parameters": map[string]any{
		"name":    "ledger",
		"port":    int64(8080),
		"public":  false,
		"tags":    []any{"go", "api"},
		"repoUrl": "github.com?owner=northwind&repo=ledger",
		"owner":   "group:default/team-a",
	},
}

func TestRenderAsBackstage(t *testing.T) {
	t.Parallel()
	in := map[string]any{
		"port":      "${{ parameters.port }}",
		"public":    "${{ parameters.public }}",
		"tags":      "${{ parameters.tags }}",
		"same":      `${{ parameters.name === "ledger" }}`,
		"differ":    `${{ parameters.name !== "ledger" }}`,
		"owner":     "${{ (parameters.repoUrl | parseRepoUrl).owner }}",
		"team":      `${{ parameters.owner | parseEntityRef | pick("name") }}`,
		"fallback":  "${{ parameters.replicas or 2 }}",
		"jsOr":      "${{ parameters.replicas || 0 }}",
		"missing":   "${{ parameters.nothing }}",
		"inText":    "ref=${{ github.head_ref }}",
		"list":      []any{"${{ parameters.nothing }}", "${{ parameters.name | upper }}"},
		"plain":     "no tags here {{ x }}",
		"loop":      "{% for t in parameters.tags %}${{ t }};{% endfor %}",
		"nested":    map[string]any{"slug": "${{ parameters.repoUrl | projectSlug }}"},
		"unchanged": int64(3),
	}
	got, err := scaffolder.Render("steps.x.input", in, renderVars)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"port":   int64(8080),
		"public": false,
		"tags":   []any{"go", "api"},
		"same":   true, "differ": false,
		"owner":    "northwind",
		"team":     "team-a",
		"fallback": int64(2),
		// nunjucks cannot read ||: Backstage keeps such a value as written.
		"jsOr":      "${{ parameters.replicas || 0 }}",
		"inText":    "ref=",
		"list":      []any{nil, "LEDGER"},
		"plain":     "no tags here {{ x }}",
		"loop":      "go;api;",
		"nested":    map[string]any{"slug": "northwind/ledger"},
		"unchanged": int64(3),
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
}

func TestRenderOverItsBudgetNamesTheField(t *testing.T) {
	t.Parallel()
	vars := map[string]any{"parameters": map[string]any{"s": strings.Repeat("a", 60_000)}}
	_, err := scaffolder.Render("steps.x.input", map[string]any{"big": "${{ parameters.s" + strings.Repeat(` | replace("a", "aaaaaaaaaa")`, 4) + " }}"}, vars)
	if err == nil || !strings.Contains(err.Error(), "steps.x.input.big") || !strings.Contains(err.Error(), "MaxStringLength") {
		t.Fatalf("got %v, want the field and the limit named", err)
	}
}

func TestStepIfIsJavaScriptTruth(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cond any
		want bool
	}{
		{"no if", nil, true},
		{"false", false, false},
		{"true", true, true},
		{"false expression", "${{ parameters.public }}", false},
		{"comparison", `${{ parameters.name === "ledger" }}`, true},
		{"undefined", "${{ parameters.nothing }}", false},
		{"empty list", "${{ [] }}", false},
		{"zero", "${{ 0 }}", false},
		{"the word false is a string", "false", true},
		{"a number that is not a string", int64(0), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := scaffolder.Step{ID: "x", If: c.cond}
			got, err := s.Enabled(renderVars)
			if err != nil || got != c.want {
				t.Fatalf("Enabled = %v, %v, want %v", got, err, c.want)
			}
		})
	}
}

func TestFetchTemplateAsBackstage(t *testing.T) {
	t.Parallel()
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR ${{ values.name }}")
	src := t.TempDir()
	writeTree(t, src, map[string]string{
		"README.md":                                 "# ${{ values.name }}\nref: ${{ github.head_ref }}\n",
		"${{ values.skip | trim }}":                 "dropped: the path renders empty",
		"${{ values.skip }}/inner.txt":              "dropped: the path starts with /",
		"docs/${{ values.skip }}/x.md":              "dropped: the path holds //",
		"{% if values.docs %}mkdocs.yml{% endif %}": "site_name: ${{ values.name }}\n",
		"run.sh": "#!/bin/sh\necho ${{ values.name }}\n",
	})
	if err := os.WriteFile(filepath.Join(src, "logo.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(src, "run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	w := scaffolder.Workspace{Dir: t.TempDir()}
	values := map[string]any{"name": "ledger", "skip": "", "docs": false}
	files, err := scaffolder.FetchTemplateWith(w, src, "out", scaffolder.TemplateOptions{Values: values})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	if want := []string{"README.md", "logo.png", "run.sh"}; !slices.Equal(files, want) {
		t.Fatalf("files %v, want %v", files, want)
	}
	if got := read(t, filepath.Join(w.Dir, "out/README.md")); got != "# ledger\nref: \n" {
		t.Errorf("README.md = %q", got)
	}
	if got, _ := os.ReadFile(filepath.Join(w.Dir, "out/logo.png")); !bytes.Equal(got, png) {
		t.Errorf("the binary file changed: %q", got)
	}
	if fi, err := os.Stat(filepath.Join(w.Dir, "out/run.sh")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("run.sh mode %v, %v; want 0755", fi.Mode(), err)
	}

	// Without replace a file already there is kept; with it, overwritten.
	if err := os.WriteFile(filepath.Join(w.Dir, "out/README.md"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := scaffolder.FetchTemplateWith(w, src, "out", scaffolder.TemplateOptions{Values: values}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(w.Dir, "out/README.md")); got != "mine" {
		t.Errorf("without replace: %q", got)
	}
	if _, err := scaffolder.FetchTemplateWith(w, src, "out", scaffolder.TemplateOptions{Values: values, Replace: true}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(w.Dir, "out/README.md")); got != "# ledger\nref: \n" {
		t.Errorf("with replace: %q", got)
	}
}

func TestFetchTemplateOptions(t *testing.T) {
	t.Parallel()
	values := map[string]any{"name": "ledger"}
	t.Run("templateFileExtension", func(t *testing.T) {
		t.Parallel()
		src := t.TempDir()
		writeTree(t, src, map[string]string{
			"${{ values.name }}.txt.njk": "name ${{ values.name }}",
			"static.txt":                 "kept ${{ values.name }}",
		})
		w := scaffolder.Workspace{Dir: t.TempDir()}
		if _, err := scaffolder.FetchTemplateWith(w, src, ".", scaffolder.TemplateOptions{Values: values, TemplateFileExtension: ".njk"}); err != nil {
			t.Fatal(err)
		}
		if got := read(t, filepath.Join(w.Dir, "ledger.txt")); got != "name ledger" {
			t.Errorf("ledger.txt = %q", got)
		}
		if got := read(t, filepath.Join(w.Dir, "static.txt")); got != "kept ${{ values.name }}" {
			t.Errorf("static.txt = %q", got)
		}
		_, err := scaffolder.FetchTemplateWith(w, src, ".", scaffolder.TemplateOptions{TemplateFileExtension: ".njk", CookiecutterCompat: true})
		if err == nil || !strings.Contains(err.Error(), "templateFileExtension") {
			t.Errorf("extension with cookiecutterCompat: %v", err)
		}
	})
	t.Run("cookiecutterCompat", func(t *testing.T) {
		t.Parallel()
		src := t.TempDir()
		writeTree(t, src, map[string]string{"{{ cookiecutter.name }}.md": "{{ cookiecutter.name | upper }}"})
		w := scaffolder.Workspace{Dir: t.TempDir()}
		if _, err := scaffolder.FetchTemplateWith(w, src, ".", scaffolder.TemplateOptions{Values: values, CookiecutterCompat: true}); err != nil {
			t.Fatal(err)
		}
		if got := read(t, filepath.Join(w.Dir, "ledger.md")); got != "LEDGER" {
			t.Errorf("ledger.md = %q", got)
		}
	})
	t.Run("copyWithoutTemplating renders the path only", func(t *testing.T) {
		t.Parallel()
		src := t.TempDir()
		writeTree(t, src, map[string]string{".github/${{ values.name }}.yml": "run: ${{ github.sha }}"})
		w := scaffolder.Workspace{Dir: t.TempDir()}
		if _, err := scaffolder.FetchTemplateWith(w, src, ".", scaffolder.TemplateOptions{Values: values, CopyWithoutTemplating: []string{".github/*"}}); err != nil {
			t.Fatal(err)
		}
		if got := read(t, filepath.Join(w.Dir, ".github/ledger.yml")); got != "run: ${{ github.sha }}" {
			t.Errorf("ledger.yml = %q", got)
		}
	})
	t.Run("a content error names the file", func(t *testing.T) {
		t.Parallel()
		src := t.TempDir()
		writeTree(t, src, map[string]string{"bad.txt": "line\n{% if %}"})
		w := scaffolder.Workspace{Dir: t.TempDir()}
		_, err := scaffolder.FetchTemplateWith(w, src, ".", scaffolder.TemplateOptions{Values: values})
		if err == nil || !strings.Contains(err.Error(), "bad.txt: 2:") {
			t.Errorf("got %v, want the file and line named", err)
		}
	})
}

func TestIterationsAsBackstage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		each any
		want []map[string]any
	}{
		{"no each", nil, nil},
		{"a list", "${{ parameters.tags }}", []map[string]any{
			{"key": "0", "value": "go", "index": int64(0)}, {"key": "1", "value": "api", "index": int64(1)}}},
		{"an object", map[string]any{"b": int64(2), "a": int64(1)}, []map[string]any{
			{"key": "a", "value": int64(1), "index": int64(0)}, {"key": "b", "value": int64(2), "index": int64(1)}}},
		{"an empty list", []any{}, []map[string]any{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := scaffolder.Step{ID: "x", Each: c.each}
			got, err := s.Iterations(renderVars)
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Iterations = %#v, %v; want %#v", got, err, c.want)
			}
		})
	}
	if _, err := (&scaffolder.Step{ID: "x", Each: "${{ parameters.name }}"}).Iterations(renderVars); err == nil {
		t.Fatal("each over a string: no error")
	}
}

func TestDryRunReadsTheTaskContext(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	body := []byte(`{"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template", "metadata": {"name": "ctx"},
	 "spec": {"steps": [{"id": "log", "action": "debug:log", "input": {"message": "hi"}}],
	          "output": {"task": "${{ context.task.id }}", "who": "${{ user.ref }}"}}}`)
	info := scaffolder.TemplateInfo{Ref: "template:default/ctx", Body: body, Location: "file:" + filepath.Join(dir, "template.yaml")}
	res, err := (&scaffolder.Activities{}).DryRun(t.Context(), info, nil, scaffolder.UserInfo{Ref: "user:default/ada"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Output["task"] != "dry-run" || res.Output["who"] != "user:default/ada" {
		t.Fatalf("output %v", res.Output)
	}
}
