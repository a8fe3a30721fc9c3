package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/internal/temporalsrv"
)

// readmeExcluded are the commands of README.md's code blocks this test does
// not run, each with the reason. Every other command of those blocks runs.
var readmeExcluded = map[string]string{
	"make run":  "the test starts what it starts itself: the dev command of the Makefile's run recipe, as written there, on free ports",
	"make test": "the suite this test is part of",
}

// readmeSane is what each README command's output must hold, by the
// command's first words: a command that exits 0 but prints nothing useful
// fails too.
var readmeSane = []struct{ prefix, want string }{
	{"curl ", `"tracking-service"`},
	{"./bin/backlot catalog list", "component:default/tracking-service"},
	{"./bin/backlot catalog get", "ref"},
	{"./bin/backlot policies results", "entities"},
	{"./bin/backlot scaffold run", "completed"},
	{"./bin/backlot migrate run examples/migrations/add-codeowners.yaml --dry-run", "+* @group:default/team-a"},
	{"./bin/backlot migrate run examples/migrations/add-codeowners.yaml --watch", "completed"},
}

// readmeCommands returns the commands of README.md's sh code blocks: lines
// continued with a backslash joined, comments and blank lines dropped.
func readmeCommands(t *testing.T, readme string) []string {
	t.Helper()
	var cmds []string
	in := false
	var cur strings.Builder
	for _, line := range strings.Split(readme, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case !in && trimmed == "```sh":
			in = true
			continue
		case in && trimmed == "```":
			in = false
			continue
		case !in:
			continue
		}
		code := strings.TrimSpace(stripComment(line))
		if cont, ok := strings.CutSuffix(code, `\`); ok {
			cur.WriteString(strings.TrimSpace(cont) + " ")
			continue
		}
		cur.WriteString(code)
		if c := strings.TrimSpace(cur.String()); c != "" {
			cmds = append(cmds, c)
		}
		cur.Reset()
	}
	if in {
		t.Fatal("README.md: a code block is not closed")
	}
	return cmds
}

// stripComment cuts a shell comment (# at the start or after a blank,
// outside quotes) off a line.
func stripComment(line string) string {
	var quote rune
	for i, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return line[:i]
		}
	}
	return line
}

// makeRunArgs returns the arguments the Makefile's run recipe gives the
// binary.
func makeRunArgs(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^run:.*\n((?:\t.*\n)+)`).FindStringSubmatch(string(raw))
	if m == nil {
		t.Fatal("Makefile: no run recipe")
	}
	recipe := strings.ReplaceAll(m[1], "\\\n", " ")
	fields := strings.Fields(recipe)
	if len(fields) == 0 || fields[0] != "./$(BIN)" {
		t.Fatalf("Makefile: the run recipe does not start the binary: %q", recipe)
	}
	return fields[1:]
}

// readmeServer is `backlot dev` started as `make run` starts it, in a
// folder holding the examples and bin/backlot, so the README's relative
// paths work as written.
type readmeServer struct {
	dir, base, bin string
}

func startReadmeServer(t *testing.T) *readmeServer {
	t.Helper()
	bin := buildBinary(t)
	dir := t.TempDir()
	copyTree(t, "../../examples", filepath.Join(dir, "examples"))
	// make run registers the shipped custom actions (actions/actions.yaml).
	if err := os.MkdirAll(filepath.Join(dir, "actions"), 0o755); err != nil {
		t.Fatal(err)
	}
	copyTree(t, "../../actions", filepath.Join(dir, "actions"))
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(bin, filepath.Join(dir, "bin", "backlot")); err != nil {
		t.Fatal(err)
	}
	port, err := temporalsrv.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := append(makeRunArgs(t), "--quiet", "--addr", addr, "--temporal-address", "127.0.0.1:0")
	if !slices.Contains(args, ".data") {
		t.Fatalf("make run no longer gives a relative --data: %v", args)
	}
	cmd := exec.Command(filepath.Join(dir, "bin", "backlot"), args...)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	s := &readmeServer{dir: dir, base: "http://" + addr, bin: bin}
	// Ready when the catalog, the template and the policies' results are.
	deadline := time.Now().Add(90 * time.Second)
	for _, path := range []string{
		"/api/catalog/entities/by-name/component/default/tracking-service",
		"/api/catalog/entities/by-name/template/default/go-service",
		"/api/policies/test-certification/results",
	} {
		for {
			resp, err := http.Get(s.base + path)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("backlot dev did not serve %s within 90s: %v", path, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return s
}

// sh runs a command line as the README's reader would, in the server's
// folder with BACKLOT_URL set to it; it answers the exit status and the
// combined output.
func (s *readmeServer) sh(t *testing.T, line string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", line)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "BACKLOT_URL="+s.base)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	}
	t.Fatalf("%s: %v\n%s", line, err, out)
	return -1, ""
}

// TestEveryReadmeCommandRunsAsWritten runs every command of README.md's
// code blocks, in order, exactly as written, against `backlot dev` started
// as `make run` starts it (its --data relative to the working directory):
// each must exit 0 and print what it is for. Only the address differs: the
// server listens on a free port, which BACKLOT_URL names (and the curl
// command's URL is pointed at). Then it checks what the README's last
// commands did: the migration's CODEOWNERS lifts the scaffolded
// component's has-codeowners check.
func TestEveryReadmeCommandRunsAsWritten(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	cmds := readmeCommands(t, string(raw))
	for excluded := range readmeExcluded {
		if !slices.Contains(cmds, excluded) {
			t.Errorf("%q is excluded but no longer in README.md: drop it from readmeExcluded", excluded)
		}
	}
	var run []string
	for _, c := range cmds {
		if _, ok := readmeExcluded[c]; !ok {
			run = append(run, c)
		}
	}
	if len(run) < len(readmeSane) {
		t.Fatalf("found %d commands to run in README.md, want at least %d: %q", len(run), len(readmeSane), run)
	}
	s := startReadmeServer(t)
	for _, c := range run {
		line := strings.ReplaceAll(c, "http://127.0.0.1:7007", s.base)
		code, out := s.sh(t, line)
		if code != 0 {
			t.Fatalf("README command %q exited %d:\n%s", c, code, out)
		}
		matched := false
		for _, sane := range readmeSane {
			if strings.HasPrefix(c, sane.prefix) {
				matched = true
				if !strings.Contains(out, sane.want) {
					t.Errorf("README command %q printed no %q:\n%s", c, sane.want, out)
				}
			}
		}
		if !matched {
			t.Errorf("README command %q has no expected output in readmeSane", c)
		}
	}
	// The migration merged CODEOWNERS into payments' repository: its
	// facts are collected again and the check passes.
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, out := s.sh(t, "./bin/backlot policies badges component:default/payments -o json")
		var bs []struct {
			Policy string `json:"policy"`
			Checks []struct {
				ID     string `json:"id"`
				Passed bool   `json:"passed"`
			} `json:"checks"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &bs) != nil {
			t.Fatalf("policies badges: %d\n%s", code, out)
		}
		passed := false
		for _, b := range bs {
			for _, c := range b.Checks {
				if b.Policy == "test-certification" && c.ID == "has-codeowners" && c.Passed {
					passed = true
				}
			}
		}
		if passed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("30s after the migration merged CODEOWNERS, has-codeowners still fails on payments:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Run("failures exit non-zero", func(t *testing.T) { failuresExitNonZero(t, s) })
	t.Run("broken files", func(t *testing.T) { brokenFilesShowTheirErrors(t, s) })
}

// failuresExitNonZero runs commands that fail: each must exit 1 and say why.
func failuresExitNonZero(t *testing.T, s *readmeServer) {
	bad := filepath.Join(s.dir, "every-target-fails.yaml")
	if err := os.WriteFile(bad, []byte(`apiVersion: backlot.dev/v1alpha1
kind: Migration
metadata: {name: every-target-fails}
spec:
  targets:
    selector: entity.kind == "Component" && entity.spec.type == "service"
  change:
    script: exit 3
  pullRequest: {branch: backlot/fails, title: Fails}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ line, want string }{
		{"./bin/backlot audit histroy", `unknown command "histroy" for "backlot audit"`},
		{"./bin/backlot catalog list -o yaml", `--output "yaml": want one of table, json`},
		{"./bin/backlot policies badges component:default/nothing-here", "entity component:default/nothing-here not found"},
		{"./bin/backlot policies test examples/policies/test-certification.yaml --entity component:default/payments", "checks did not pass on component:default/payments"},
		{"./bin/backlot migrate run every-target-fails.yaml --dry-run", "every one of the 1 targets failed"},
		{"./bin/backlot catalog list --filter 'garbage==='", "'garbage===' is not a valid statement"},
		{"./bin/backlot --url http://127.0.0.1:1 catalog list", "cannot reach Backlot at http://127.0.0.1:1: connection refused — start it with `make run` or `backlot dev`"},
		{"./bin/backlot events subscriptions create --secret 0123456789abcdef0123", "--endpoint URL is required"},
		{"./bin/backlot scaffold run go-service --set name=payments --set owner=group:default/team-a --set 'repoUrl=local?owner=team-a&repo=payments-again'",
			"component:default/payments"},
		{"./bin/backlot scaffold run go-service --set name=ledger --set owner=group:default/team-a --set 'repoUrl=github.com?owner=team-a&repo=ledger'",
			`parameters.repoUrl: host "github.com" is not allowed`},
	} {
		code, out := s.sh(t, tc.line)
		if code != 1 || !strings.Contains(out, tc.want) {
			t.Errorf("%s: exit %d, want 1 with %q:\n%s", tc.line, code, tc.want, out)
		}
	}
	// The duplicate was refused before anything was published.
	resp, err := http.Get(s.base + "/api/git/repos")
	if err != nil {
		t.Fatal(err)
	}
	var repos bytes.Buffer
	repos.ReadFrom(resp.Body)
	resp.Body.Close()
	if strings.Contains(repos.String(), "payments-again") {
		t.Errorf("a task for a name the catalog holds published its repository: %s", repos.String())
	}
}

// brokenFilesShowTheirErrors registers a file whose every entity is
// broken: register, its dry run and catalog locations show each error with
// its entity and field; once the file is fixed, catalog refresh of the
// location reads it and exits 0.
func brokenFilesShowTheirErrors(t *testing.T, s *readmeServer) {
	file := filepath.Join(s.dir, "examples", "broken", "catalog-info.yaml")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	broken := `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: Bad_Name!
spec:
  type: service
  lifecycle: production
  owner: team-a
`
	if err := os.WriteFile(file, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	const field = "entity component:default/Bad_Name! field metadata.name"
	code, out := s.sh(t, "./bin/backlot catalog register examples/broken/catalog-info.yaml --dry-run")
	if code != 1 || !strings.Contains(out, field) {
		t.Errorf("register --dry-run of a broken file: exit %d, want 1 naming %q:\n%s", code, field, out)
	}
	code, out = s.sh(t, "./bin/backlot catalog register examples/broken/catalog-info.yaml")
	if code != 1 || !strings.Contains(out, field) || !strings.Contains(out, "processing errors") {
		t.Fatalf("register of a broken file: exit %d, want 1 naming %q:\n%s", code, field, out)
	}
	id := regexp.MustCompile(`registered location (\S+) `).FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("register printed no location id:\n%s", out)
	}
	code, out = s.sh(t, "./bin/backlot catalog locations")
	if code != 0 || !strings.Contains(out, id[1]+": ") || !strings.Contains(out, field) {
		t.Errorf("catalog locations does not show the location's error: exit %d:\n%s", code, out)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(broken, "Bad_Name!", "fixed-name", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out = s.sh(t, "./bin/backlot catalog refresh "+id[1])
	if code != 0 || !strings.Contains(out, "refreshed location "+id[1]) {
		t.Fatalf("catalog refresh of the fixed location: exit %d:\n%s", code, out)
	}
	code, out = s.sh(t, "./bin/backlot catalog get component:default/fixed-name")
	if code != 0 || !strings.Contains(out, "component:default/fixed-name") {
		t.Errorf("the fixed entity after the refresh: exit %d:\n%s", code, out)
	}
}
