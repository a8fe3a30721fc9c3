package scaffoldsvc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"backlot.dev/backlot/workflows/scaffolder"
)

// TestADryRunReadsOnlyTheUploadedFiles runs a template whose fetch step
// reads ./skeleton: with the skeleton uploaded the preview holds its files;
// without it the step fails naming the step, the field and the folder, and
// nothing of the server's disk is read in its place, not even by ../ or an
// absolute url.
func TestADryRunReadsOnlyTheUploadedFiles(t *testing.T) {
	t.Parallel()
	svc := New(Config{Activities: &scaffolder.Activities{WorkDir: t.TempDir()}})
	tmpl := func(url string) json.RawMessage {
		in, _ := json.Marshal(map[string]any{"url": url})
		return json.RawMessage(`{"apiVersion":"scaffolder.backstage.io/v1beta3","kind":"Template","metadata":{"name":"preview"},
		"spec":{"steps":[{"id":"fetch","action":"fetch:template","input":` + string(in) + `}]}}`)
	}
	up := []scaffolder.File{{Path: "skeleton/README.md", Base64Content: base64.StdEncoding.EncodeToString([]byte("uploaded"))}}
	res, err := svc.DryRun(context.Background(), "", tmpl("./skeleton"), nil, nil, up)
	if err != nil || len(res.DirectoryContents) != 1 || res.DirectoryContents[0].Path != "README.md" {
		t.Fatalf("with the skeleton uploaded: %v %+v", err, res.DirectoryContents)
	}
	for _, c := range []struct {
		name, url string
		files     []scaffolder.File
		want      string
	}{
		{"no upload", "./skeleton", nil, "skeleton is not a folder next to the template"},
		{"another folder uploaded", "./skeleton", []scaffolder.File{{Path: "other/a.txt", Base64Content: ""}}, "skeleton is not a folder next to the template"},
		{"an absolute url", "/etc", up, `"/etc" is absolute`},
		{"parent folders", "../../", up, "leaves the template's folder"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := svc.DryRun(context.Background(), "", tmpl(c.url), nil, nil, c.files)
			if err == nil {
				t.Fatalf("the dry run read %q: %+v", c.url, res.DirectoryContents)
			}
			for _, w := range []string{"step fetch", "steps.fetch.input.url", c.want} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error %q does not say %q", err, w)
				}
			}
			if len(res.DirectoryContents) != 0 {
				t.Errorf("the answer holds files: %+v", res.DirectoryContents)
			}
		})
	}
}
