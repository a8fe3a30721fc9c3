package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fail("usage: backlot-action-roadie fs-append|fs-write|json-merge|zip < input.json")
	}
	var in map[string]any
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fail("input: %v", err)
	}
	var out map[string]any
	var err error
	switch os.Args[1] {
	case "fs-append":
		out, err = fsWrite(in, true)
	case "fs-write":
		out, err = fsWrite(in, false)
	case "json-merge":
		out, err = jsonMerge(in)
	case "zip":
		out, err = zipFolder(in)
	default:
		err = fmt.Errorf("no action %q", os.Args[1])
	}
	if err != nil {
		fail("%v", err)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail("output: %v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

// local returns input field name, a path inside the working folder.
func local(in map[string]any, name string) (string, error) {
	p, _ := in[name].(string)
	if p == "" {
		return "", fmt.Errorf("input.%s: required", name)
	}
	if filepath.IsAbs(p) || !filepath.IsLocal(filepath.Clean(p)) {
		return "", fmt.Errorf("input.%s: %q leaves the workspace", name, p)
	}
	return filepath.Clean(p), nil
}

// fsWrite writes (or appends) input.content to input.path, making its
// folders.
func fsWrite(in map[string]any, appendTo bool) (map[string]any, error) {
	p, err := local(in, "path")
	if err != nil {
		return nil, err
	}
	content, ok := in["content"].(string)
	if !ok {
		return nil, errors.New("input.content: required, a string")
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if appendTo {
		flag = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	f, err := os.OpenFile(p, flag, 0o644)
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return nil, err
	}
	verb := "Wrote"
	if appendTo {
		verb = "Appended to"
	}
	fmt.Fprintf(os.Stderr, "%s %s\n", verb, p)
	return map[string]any{"path": p}, f.Close()
}

// jsonMerge merges input.content (an object, or a string of JSON) into the
// JSON file input.path (created when missing): objects merge key by key,
// arrays are replaced unless input.mergeArrays, when they are concatenated.
// With input.matchFileIndent the file keeps its indentation.
func jsonMerge(in map[string]any) (map[string]any, error) {
	p, err := local(in, "path")
	if err != nil {
		return nil, err
	}
	content := in["content"]
	if s, ok := content.(string); ok {
		if err := json.Unmarshal([]byte(s), &content); err != nil {
			return nil, fmt.Errorf("input.content: not JSON: %v", err)
		}
	}
	add, ok := content.(map[string]any)
	if !ok {
		return nil, errors.New("input.content: required, an object or a string of a JSON object")
	}
	mergeArrays, _ := in["mergeArrays"].(bool)
	matchIndent, _ := in["matchFileIndent"].(bool)
	var doc map[string]any
	indent := "  "
	raw, err := os.ReadFile(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		doc = map[string]any{}
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(raw, &doc); err != nil {
			return nil, fmt.Errorf("%s: not a JSON object: %v", p, err)
		}
		if matchIndent {
			if m := regexp.MustCompile(`\n([ \t]+)\S`).FindSubmatch(raw); m != nil {
				indent = string(m[1])
			}
		}
	}
	merged := merge(doc, add, mergeArrays).(map[string]any)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(merged); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "Merged into %s\n", p)
	return map[string]any{"path": p}, os.WriteFile(p, b.Bytes(), 0o644)
}

func merge(dst, src any, arrays bool) any {
	switch s := src.(type) {
	case map[string]any:
		d, ok := dst.(map[string]any)
		if !ok {
			return s
		}
		for k, v := range s {
			d[k] = merge(d[k], v, arrays)
		}
		return d
	case []any:
		if d, ok := dst.([]any); ok && arrays {
			return append(d, s...)
		}
	}
	return src
}

// zipFolder zips input.path (a file or folder) into input.outputPath.
func zipFolder(in map[string]any) (map[string]any, error) {
	src, err := local(in, "path")
	if err != nil {
		return nil, err
	}
	dst, err := local(in, "outputPath")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	base := filepath.Dir(src)
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == dst {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s: symbolic links are not zipped", p)
		}
		rel, err := filepath.Rel(base, p)
		if err != nil {
			return err
		}
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(w, f)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "Zipped %s into %s (%d bytes)\n", src, dst, b.Len())
	return map[string]any{"outputPath": strings.TrimPrefix(dst, "./")}, os.WriteFile(dst, b.Bytes(), 0o644)
}
