package scaffolder_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"backlot.dev/backlot/workflows/scaffolder"
	"go.yaml.in/yaml/v3"
)

// TestCatalogWriteLaysOutTheDescriptor runs catalog:write in a dry run: the
// descriptor it writes is indented by two spaces, as Backstage writes it,
// with apiVersion, kind, metadata and spec in that order and name first in
// metadata, so the file reads as its author wrote it.
func TestCatalogWriteLaysOutTheDescriptor(t *testing.T) {
	t.Parallel()
	p, err := filepath.Abs("testdata/catalog-write/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	acts := &scaffolder.Activities{WorkDir: t.TempDir()}
	info := scaffolder.TemplateInfo{Ref: "template:default/catalog-write", Version: "v1", Location: "file:" + p, Body: body}
	res, err := acts.DryRun(context.Background(), info, map[string]any{"name": "ledger"}, scaffolder.UserInfo{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ledger
  annotations:
    github.com/project-slug: northwind/ledger
  tags:
    - go
    - grpc
spec:
  lifecycle: production
  owner: group:default/platform
  type: service
`
	if len(res.DirectoryContents) != 1 || res.DirectoryContents[0].Path != "catalog-info.yaml" {
		t.Fatalf("files %+v", res.DirectoryContents)
	}
	got, err := base64.StdEncoding.DecodeString(res.DirectoryContents[0].Base64Content)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("catalog-info.yaml:\n%s\nwant:\n%s", got, want)
	}
}
