package scaffolder_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"backlot.dev/backlot/workflows/scaffolder"
)

// fetchTemplate is a template in its own folder under root, whose one step
// fetches url with action.
func fetchTemplate(t *testing.T, dir, action, url string) scaffolder.TemplateInfo {
	t.Helper()
	in, _ := json.Marshal(map[string]any{"url": url})
	body := `{"apiVersion":"scaffolder.backstage.io/v1beta3","kind":"Template","metadata":{"name":"fetcher"},
	"spec":{"steps":[{"id":"fetch","action":"` + action + `","input":` + string(in) + `}]}}`
	return scaffolder.TemplateInfo{Ref: "template:default/fetcher", Version: "v1", Location: "file:" + filepath.Join(dir, "template.yaml"), Body: json.RawMessage(body)}
}

// TestFetchReadsOnlyInsideTheTemplateFolder runs both fetch actions with
// urls that leave the template's folder, by path or through a symbolic
// link: each is refused with an error naming the step, the field and the
// path, and nothing of the outside folder reaches the answer.
func TestFetchReadsOnlyInsideTheTemplateFolder(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	outside := filepath.Join(root, "data")
	writeTree(t, outside, map[string]string{"secrets.key": "the-sealing-key"})
	dir := filepath.Join(root, "templates", "fetcher")
	writeTree(t, dir, map[string]string{"skeleton/README.md": "hello ${{ values.name }}", "template.yaml": "{}"})
	if err := os.Symlink(outside, filepath.Join(dir, "escape")); err != nil {
		t.Fatal(err)
	}
	writeTree(t, filepath.Join(dir, "linked"), map[string]string{"ok.txt": "ok"})
	if err := os.Symlink(filepath.Join(outside, "secrets.key"), filepath.Join(dir, "linked", "key")); err != nil {
		t.Fatal(err)
	}
	acts := &scaffolder.Activities{WorkDir: t.TempDir()}
	cases := []struct {
		name, url string
		// want are the words the error must hold.
		want []string
	}{
		{"an absolute path", "/etc", []string{`"/etc" is absolute`}},
		{"the data folder by its absolute path", outside, []string{"is absolute"}},
		{"a file url", "file://" + outside, []string{"give a folder relative to the template"}},
		{"parent folders", "../../", []string{`"../../" leaves the template's folder`}},
		{"a parent hidden in the path", "./skeleton/../../../data", []string{"leaves the template's folder"}},
		{"a symbolic link to a folder outside", "./escape", []string{filepath.Join(dir, "escape"), "symbolic link", outside}},
		{"a symbolic link inside the folder to a file outside", "./linked", []string{"key: symbolic links are not copied"}},
	}
	for _, c := range cases {
		for _, action := range []string{"fetch:plain", "fetch:template"} {
			t.Run(c.name+" "+action, func(t *testing.T) {
				res, err := acts.DryRun(context.Background(), fetchTemplate(t, dir, action, c.url), nil, scaffolder.UserInfo{}, nil)
				if err == nil {
					t.Fatalf("%s read %q: %+v", action, c.url, res.DirectoryContents)
				}
				for _, w := range append([]string{"step fetch", "steps.fetch.input.url"}, c.want...) {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("the error %q does not say %q", err, w)
					}
				}
				for _, f := range res.DirectoryContents {
					if f.Path == "secrets.key" || f.Path == "key" {
						t.Errorf("the answer holds %s", f.Path)
					}
				}
			})
		}
	}
	t.Run("the skeleton next to the template", func(t *testing.T) {
		res, err := acts.DryRun(context.Background(), fetchTemplate(t, dir, "fetch:plain", "./skeleton"), nil, scaffolder.UserInfo{}, nil)
		if err != nil || len(res.DirectoryContents) != 1 || res.DirectoryContents[0].Path != "README.md" {
			t.Fatalf("%v %+v", err, res.DirectoryContents)
		}
	})
}
