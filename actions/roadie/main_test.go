package main

import (
	"archive/zip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// inDir runs the test in a scratch working folder, as the sandbox does.
func inDir(t *testing.T) {
	t.Helper()
	t.Chdir(t.TempDir())
}

func TestJSONMergeMergesObjectsAndKeepsIndentation(t *testing.T) {
	inDir(t)
	os.WriteFile("package.json", []byte("{\n    \"name\": \"x\",\n    \"keywords\": [\"a\"],\n    \"scripts\": {\"build\": \"go build\"}\n}\n"), 0o644)
	_, err := jsonMerge(map[string]any{"path": "package.json", "mergeArrays": true, "matchFileIndent": true,
		"content": `{"keywords": ["b"], "scripts": {"test": "go test"}}`})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile("package.json")
	want := "{\n    \"keywords\": [\n        \"a\",\n        \"b\"\n    ],\n    \"name\": \"x\",\n    \"scripts\": {\n        \"build\": \"go build\",\n        \"test\": \"go test\"\n    }\n}\n"
	if string(raw) != want {
		t.Fatalf("merged:\n%s\nwant:\n%s", raw, want)
	}
	// Without mergeArrays an array is replaced.
	if _, err := jsonMerge(map[string]any{"path": "package.json", "content": map[string]any{"keywords": []any{"c"}}}); err != nil {
		t.Fatal(err)
	}
	raw, _ = os.ReadFile("package.json")
	if !strings.Contains(string(raw), "\"keywords\": [\n    \"c\"\n  ]") {
		t.Fatalf("replaced array:\n%s", raw)
	}
}

func TestPathsStayInTheWorkspace(t *testing.T) {
	inDir(t)
	for _, p := range []string{"../out.txt", "/etc/passwd", "a/../../b"} {
		if _, err := fsWrite(map[string]any{"path": p, "content": "x"}, false); err == nil || !strings.Contains(err.Error(), "leaves the workspace") {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := fsWrite(map[string]any{"path": "a.txt"}, true); err == nil || !strings.Contains(err.Error(), "input.content") {
		t.Errorf("no content: %v", err)
	}
}

func TestZipHoldsTheFolder(t *testing.T) {
	inDir(t)
	os.MkdirAll("site/css", 0o755)
	os.WriteFile("site/index.html", []byte("<h1>hi</h1>"), 0o644)
	os.WriteFile("site/css/a.css", []byte("h1{}"), 0o644)
	out, err := zipFolder(map[string]any{"path": "site", "outputPath": "dist/site.zip"})
	if err != nil || out["outputPath"] != "dist/site.zip" {
		t.Fatalf("%v %v", out, err)
	}
	zr, err := zip.OpenReader(filepath.Join("dist", "site.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "site/css/a.css,site/index.html" {
		t.Fatalf("entries %v", names)
	}
}
