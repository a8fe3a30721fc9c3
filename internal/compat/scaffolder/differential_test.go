package scaffolder_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	wf "backlot.dev/backlot/workflows/scaffolder"
)

// testCase is one case of testdata/cases.json: a template of
// testdata/templates and the values a user gives it.
type testCase struct {
	ID       string         `json:"id"`
	Template string         `json:"template"`
	Values   map[string]any `json:"values"`
}

// backstageAnswer is one line of dryrun.cjs's output.
type backstageAnswer struct {
	ID              string         `json:"id"`
	ParameterErrors []string       `json:"parameterErrors"`
	Files           []wf.File      `json:"files"`
	Output          map[string]any `json:"output"`
	Error           *string        `json:"error"`
}

// packageDir is this folder, with node_modules installed (npm ci) when missing.
func packageDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@backstage", "plugin-scaffolder-backend")); err != nil {
		install := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		install.Dir = dir
		if out, err := install.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	return dir
}

// templateJSON reads a testdata template as the JSON body of its entity.
func templateJSON(t *testing.T, dir string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	return doc
}

// plainJSON normalizes v through JSON, numbers as float64, so values of
// both sides compare alike.
func plainJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestScaffolderMatchesBackstage compares the cases of testdata/cases.json,
// or of the file BACKLOT_COMPAT_CASES names (a cases.json beside a
// templates folder: how templates from elsewhere are tried by hand).
func TestScaffolderMatchesBackstage(t *testing.T) {
	dir := packageDir(t)
	casesFile := filepath.Join(dir, "testdata", "cases.json")
	if f := os.Getenv("BACKLOT_COMPAT_CASES"); f != "" {
		casesFile = f
	}
	raw, err := os.ReadFile(casesFile)
	if err != nil {
		t.Fatal(err)
	}
	templatesDir := filepath.Join(filepath.Dir(casesFile), "templates")
	var suite struct {
		User  wf.UserInfo `json:"user"`
		Cases []testCase  `json:"cases"`
	}
	if err := json.Unmarshal(raw, &suite); err != nil {
		t.Fatal(err)
	}
	templates := map[string]map[string]any{}
	type nodeCase struct {
		ID       string         `json:"id"`
		Dir      string         `json:"dir"`
		Template map[string]any `json:"template"`
		Values   map[string]any `json:"values"`
		User     wf.UserInfo    `json:"user"`
	}
	var in struct {
		Cases []nodeCase `json:"cases"`
	}
	for _, c := range suite.Cases {
		tdir := filepath.Join(templatesDir, c.Template)
		if templates[c.Template] == nil {
			templates[c.Template] = templateJSON(t, tdir)
		}
		in.Cases = append(in.Cases, nodeCase{ID: c.ID, Dir: tdir, Template: templates[c.Template], Values: c.Values, User: suite.User})
	}
	input, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	node := exec.CommandContext(ctx, "node", "dryrun.cjs")
	node.Dir = dir
	node.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	node.Stderr = &stderr
	out, err := node.Output()
	if err != nil {
		t.Fatalf("node dryrun.cjs: %v\n%s", err, stderr.String())
	}
	answers := map[string]backstageAnswer{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var a backstageAnswer
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("dryrun.cjs answered %q: %v", sc.Text(), err)
		}
		answers[a.ID] = a
	}
	if len(answers) != len(suite.Cases) {
		t.Fatalf("dryrun.cjs answered %d cases of %d", len(answers), len(suite.Cases))
	}

	compared := map[string]int{}
	for _, c := range suite.Cases {
		t.Run(c.ID, func(t *testing.T) {
			want := answers[c.ID]
			tdir := filepath.Join(templatesDir, c.Template)
			body, err := json.Marshal(templates[c.Template])
			if err != nil {
				t.Fatal(err)
			}
			ref := "template:default/" + c.Template
			tpl, err := wf.FromEntity(ref, body)
			if err != nil {
				t.Fatal(err)
			}

			// The verdict on the values: Backstage checks each page with the
			// jsonschema package, Backlot with only what the form shows.
			_, perr := tpl.ParametersFor(c.Values, wf.Viewer{Ref: suite.User.Ref})
			if (perr == nil) != (len(want.ParameterErrors) == 0) {
				t.Fatalf("parameters: Backlot says %v, Backstage says %q", perr, want.ParameterErrors)
			}
			compared["parameter verdicts"]++
			if perr != nil {
				return
			}

			info := wf.TemplateInfo{Ref: ref, Body: body, Location: "file:" + filepath.Join(tdir, "template.yaml")}
			got, err := (&wf.Activities{}).DryRun(context.Background(), info, c.Values, suite.User, nil)
			if (err != nil) != (want.Error != nil) {
				t.Fatalf("dry run: Backlot's error %v, Backstage's %v", err, want.Error)
			}
			if err != nil {
				return
			}
			gotFiles := map[string]wf.File{}
			for _, f := range got.DirectoryContents {
				gotFiles[f.Path] = f
			}
			for _, w := range want.Files {
				g, ok := gotFiles[w.Path]
				if !ok {
					t.Errorf("%s: Backstage writes it, Backlot does not", w.Path)
					continue
				}
				delete(gotFiles, w.Path)
				if g.Base64Content != w.Base64Content {
					gb, _ := base64.StdEncoding.DecodeString(g.Base64Content)
					wb, _ := base64.StdEncoding.DecodeString(w.Base64Content)
					t.Errorf("%s: content differs\nBacklot:   %q\nBackstage: %q", w.Path, gb, wb)
				}
				if g.Executable != w.Executable {
					t.Errorf("%s: executable %v in Backlot, %v in Backstage", w.Path, g.Executable, w.Executable)
				}
				compared["files"]++
			}
			for p := range gotFiles {
				t.Errorf("%s: Backlot writes it, Backstage does not", p)
			}
			gotOut, wantOut := plainJSON(t, got.Output).(map[string]any), plainJSON(t, want.Output).(map[string]any)
			for k, w := range wantOut {
				if g, ok := gotOut[k]; !ok {
					t.Errorf("output.%s: Backstage has %#v, Backlot nothing", k, w)
				} else if !reflect.DeepEqual(g, w) {
					t.Errorf("output.%s: Backlot %#v, Backstage %#v", k, g, w)
				}
				compared["output values"]++
			}
			for k, g := range gotOut {
				if _, ok := wantOut[k]; !ok {
					t.Errorf("output.%s: Backlot has %#v, Backstage nothing", k, g)
				}
			}
		})
	}
	t.Logf("compared with Backstage: %v", compared)
	if compared["files"] == 0 || compared["output values"] == 0 || compared["parameter verdicts"] != len(suite.Cases) {
		t.Errorf("compared too little: %v", compared)
	}
}
