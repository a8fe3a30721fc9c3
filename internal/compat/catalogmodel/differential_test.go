package catalogmodel_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"backlot.dev/backlot/domain/catalog"
)

// exception is a difference from Backstage that Backlot keeps on purpose.
type exception struct {
	// name says which difference it is.
	name string
	// match selects the generated cases, by id.
	match func(id string) bool
	// backlotAccepts is Backlot's verdict on those cases; Backstage's is the opposite.
	backlotAccepts bool
	// why says why Backlot differs.
	why string
}

// exceptions are the documented differences. Keep them few: every other
// difference is a bug in Backlot's validation.
var exceptions = []exception{
	{name: "kinds and versions newer than the published package", backlotAccepts: true,
		match: func(id string) bool {
			return id == `apiVersion/API/"backstage.io/v1alpha2"` || id == `kind/"Environment"` ||
				id == "valid/Environment" || id == "valid/ai-model-server"
		},
		why: "Backstage's repository defines these schemas in packages/catalog-model/src/schema/kinds (API.v1alpha2, " +
			"API.v1alpha1.ai-model-server, Environment.v1alpha1), which catalog-model 1.10.3, the latest on npm, does not ship yet; Backlot accepts them as the repository does " +
			"(Environment and the ai-model-server API, like every optional kind, only in a catalog whose extra kinds name them)"},
	{name: "Backlot's own Policy kind", backlotAccepts: true,
		match: func(id string) bool { return id == "valid/Policy" },
		why:   "Policy (backlot.dev/v1alpha1) holds the CEL checks that award badges; Backstage has no such kind"},
}

func exceptionFor(id string) *exception {
	for i := range exceptions {
		if exceptions[i].match(id) {
			return &exceptions[i]
		}
	}
	return nil
}

// nodeVerdict is one line of verdicts.cjs's output.
type nodeVerdict struct {
	ID    string `json:"id"`
	OK    bool   `json:"ok"`
	Error string `json:"error"`
	// OKPlugins and ErrorPlugins are the verdict of a catalog with the
	// modules that register the alpha kinds.
	OKPlugins    bool   `json:"okPlugins"`
	ErrorPlugins string `json:"errorPlugins"`
}

// catalogSetup is one catalog both sides are set up as: Backlot's kinds and
// the node verdict of the matching Backstage catalog.
type catalogSetup struct {
	name  string
	extra []string
	// verdict picks the matching Backstage verdict.
	verdict func(nodeVerdict) (ok bool, msg string)
}

// setups are the catalogs compared: Backstage's built-in kinds against
// Backlot's default, and a catalog with the alpha kinds' modules against
// Backlot with those kinds as extra kinds (and the optional schemas Backstage's
// repository defines but the published package does not ship).
var setups = []catalogSetup{
	{name: "built-in kinds",
		verdict: func(v nodeVerdict) (bool, string) { return v.OK, v.Error }},
	{name: "with plugin kinds", extra: []string{"AiResource", "API:mcp-server", "Environment", "API:ai-model-server"},
		verdict: func(v nodeVerdict) (bool, string) { return v.OKPlugins, v.ErrorPlugins }},
}

// packageDir is this folder, with node_modules installed (npm ci) when missing.
func packageDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@backstage", "catalog-model")); err != nil {
		install := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		install.Dir = dir
		if out, err := install.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	return dir
}

// backstageVerdicts runs verdicts.cjs on the descriptors.
func backstageVerdicts(t *testing.T, dir string, cases []descriptor) map[string]nodeVerdict {
	t.Helper()
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, c := range cases {
		if err := enc.Encode(c); err != nil {
			t.Fatalf("%s: %v", c.ID, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "verdicts.cjs")
	cmd.Dir = dir
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node verdicts.cjs: %v\n%s", err, stderr.String())
	}
	got := map[string]nodeVerdict{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var v nodeVerdict
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("node printed %q: %v", sc.Text(), err)
		}
		got[v.ID] = v
	}
	return got
}

// backlotVerdict parses the descriptor's bytes as a catalog file and runs the
// validating constructor of kinds on the document, as ingestion does.
func backlotVerdict(kinds *catalog.Kinds, c descriptor) error {
	data := []byte(c.YAML)
	if c.YAML == "" {
		var err error
		if data, err = json.Marshal(c.Entity); err != nil {
			return err
		}
	}
	docs, err := catalog.ParseDocuments("generated/"+c.ID+".json", data, catalog.Limits{})
	if err != nil {
		return err
	}
	if len(docs) != 1 {
		return &catalog.DocumentError{File: c.ID, Document: -1, Err: os.ErrInvalid}
	}
	if docs[0].Err != nil {
		return docs[0].Err
	}
	_, err = kinds.NewEntity(docs[0].Body)
	return err
}

// TestValidationAgreesWithBackstage generates descriptors around every rule's
// edges and asserts Backlot accepts exactly those Backstage's catalog accepts.
func TestValidationAgreesWithBackstage(t *testing.T) {
	t.Parallel()
	cases := generate()
	if len(cases) < 500 {
		t.Fatalf("only %d descriptors generated, want at least 500", len(cases))
	}
	dir := packageDir(t)
	verdicts := backstageVerdicts(t, dir, cases)
	var disagreements []string
	usedExceptions := map[string]bool{}
	for _, setup := range setups {
		kinds, err := catalog.NewKinds(setup.extra)
		if err != nil {
			t.Fatal(err)
		}
		var accepted, rejected, excepted int
		for _, c := range cases {
			v, ok := verdicts[c.ID]
			if !ok {
				t.Fatalf("node gave no verdict on %s", c.ID)
			}
			backstageOK, backstageMsg := setup.verdict(v)
			err := backlotVerdict(kinds, c)
			backlotOK := err == nil
			if backstageOK {
				accepted++
			} else {
				rejected++
			}
			if backlotOK == backstageOK {
				continue
			}
			if ex := exceptionFor(c.ID); ex != nil && ex.backlotAccepts == backlotOK {
				excepted++
				usedExceptions[ex.name] = true
				continue
			}
			body, _ := json.Marshal(c.Entity)
			if c.YAML != "" {
				body = []byte(c.YAML)
			}
			if backstageOK {
				disagreements = append(disagreements, setup.name+": "+c.ID+": Backstage accepts, Backlot rejects: "+err.Error()+"\n    "+string(body))
			} else {
				disagreements = append(disagreements, setup.name+": "+c.ID+": Backstage rejects ("+backstageMsg+"), Backlot accepts\n    "+string(body))
			}
		}
		t.Logf("%s: %d descriptors compared: Backstage accepts %d, rejects %d; %d under documented exceptions",
			setup.name, len(cases), accepted, rejected, excepted)
	}
	sort.Strings(disagreements)
	for _, d := range disagreements {
		t.Error(d)
	}
	for _, ex := range exceptions {
		if !usedExceptions[ex.name] {
			t.Errorf("exception %q matched no disagreement: remove it", ex.name)
			continue
		}
		t.Logf("exception %q: %s", ex.name, ex.why)
	}
	t.Logf("%d disagreements", len(disagreements))
}
