package security_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"backlot.dev/backlot/internal/testenv/gobuild"

	"backlot.dev/backlot/internal/auth"
	"backlot.dev/backlot/internal/bench"
	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
	"backlot.dev/backlot/internal/ports"
	"backlot.dev/backlot/internal/testenv/pgtest"
)

// The suite's secrets. Each is set in the servers' environment or handed to
// them, and must never come back through an attack.
const (
	// token is the operator's bearer token: service:secsuite, of team-a and
	// of the platform and auditors groups, so the attacks that need a
	// signed-in principal to get as far as their check are not refused by
	// the permission policy first.
	token = "secsuite-token-0123456789abcdef"
	// workerSecret is a git host token in the servers' environment, as an
	// operator sets GITHUB_TOKEN.
	workerSecret = "ghp_secsuiteWorkerSecret0123456789"
	// taskSecret is a scaffolder task's secret value.
	taskSecret = "hunter2/Sekr1t+Value"
	// fleetSize is how many repositories the migration attacks target.
	fleetSize = 2
	// bigCatalog is how many components the as-of attack's builds fold.
	bigCatalog = 2000
)

// secretsKey seals Temporal secrets; it is in the servers' environment
// (BACKLOT_SECRETS_KEY) and must not reach a script either.
var secretsKey = base64.StdEncoding.EncodeToString([]byte("secsuite-sealing-key-of-32-bytes"))

// principal is one token of the token file: who it signs in as, and its
// groups.
type principal struct {
	token, ref string
	groups     []string
}

// The token file's principals. ada and bob are developers of two teams,
// outside the platform and auditors groups; alex is the approver the gated
// template names; audrey is an auditor and nothing else.
var (
	operator = principal{token, "service:secsuite", []string{"group:default/team-a", "group:default/platform", "group:default/auditors"}}
	ada      = principal{"ada-token-0123456789abcdef", "user:default/ada", []string{"group:default/team-a"}}
	bob      = principal{"bob-token-0123456789abcdef", "user:default/bob", []string{"group:default/team-b"}}
	alex     = principal{"alex-token-0123456789abcdef", "user:default/alex", []string{"group:default/team-b"}}
	audrey   = principal{"audrey-token-0123456789abcdef", "user:default/audrey", []string{"group:default/auditors"}}
)

// principals are the token file's lines.
var principals = []principal{operator, ada, bob, alex, audrey}

// leakyTemplate logs a secret with debug:log; the gated template waits for
// the approval of user:default/alex before it logs.
const leakyTemplate = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: leaky
spec:
  owner: group:default/team-a
  type: service
  steps:
    - id: say
      action: debug:log
      input:
        message: token ${{ secrets.token }}
---
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: gated
spec:
  owner: group:default/team-a
  type: service
  steps:
    - id: approve
      action: backlot:approval
      input:
        approvers: [user:default/alex]
    - id: say
      action: debug:log
      input:
        message: approved
`

// built is the backlot binary the suite shares, built once.
var built = gobuild.Once{Package: "backlot.dev/backlot/cmd/backlot", Prefix: "backlot-secsuite-bin-"}

// TestMain removes the shared binary after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	built.Remove()
	os.Exit(code)
}

// binary builds backlot once, as an operator installs it.
func binary(t *testing.T) string {
	t.Helper()
	return built.Path(t)
}

// freeAddr is a free loopback address.
func freeAddr(t *testing.T) string {
	t.Helper()
	p, err := ports.Free("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return "127.0.0.1:" + strconv.Itoa(p)
}

// target is a running Backlot under attack: dev or serve.
type target struct {
	mode string // "dev" or "serve"
	base string // the API's URL
	// data is the data folder (dev), or the one the serve processes share.
	data string
	// temporalDB is the embedded Temporal server's SQLite file.
	temporalDB string
	// apiPID runs the API; workerPID runs scripts (the same in dev).
	apiPID, workerPID int
	// addr is the API's listen address (host:port).
	addr string
	// bin is the backlot binary.
	bin string
	// pgURL is the PostgreSQL URL in serve's environment ("" in dev).
	pgURL string
	// workerOut is the output of the process that runs scripts.
	workerOut *lockedBuffer
}

// serverEnv is the environment of every server process: the test's, cleared
// of the BACKLOT_ variables that would change what is tested, and the secrets
// an operator gives a server.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "BACKLOT_") && !strings.HasPrefix(kv, "BACKLOT_TEST_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "BACKLOT_SECRETS_KEY="+secretsKey, "GITHUB_TOKEN="+workerSecret)
}

// start runs the binary with args until the test ends, and returns it and
// its output; env is added to serverEnv.
func start(t *testing.T, bin string, env []string, args ...string) (*exec.Cmd, *lockedBuffer) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(serverEnv(), env...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("backlot %s output (end):\n%s", args[0], tail(out.String(), 4000))
		}
	})
	return cmd, out
}

// lockedBuffer is an output buffer a process writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// fixtures writes the token file and the catalogs both targets load into
// root: the fleet's repositories go to root/data/repos.
func fixtures(t *testing.T, root string) (tokens string, catalogs []string) {
	t.Helper()
	tokens = filepath.Join(root, "tokens")
	var lines []string
	for _, p := range principals {
		line, err := auth.HashLine(p.token, p.ref, p.groups...)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
	if err := os.WriteFile(tokens, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fleet := filepath.Join(root, "fleet.yaml")
	if err := bench.MakeFleetRepos(context.Background(), filepath.Join(root, "data", "repos"), fleet, fleetSize, nil); err != nil {
		t.Fatal(err)
	}
	leaky := filepath.Join(root, "leaky", "template.yaml")
	os.MkdirAll(filepath.Dir(leaky), 0o755)
	if err := os.WriteFile(leaky, []byte(leakyTemplate), 0o644); err != nil {
		t.Fatal(err)
	}
	var docs []string
	for i := range bigCatalog {
		docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: big-%04d\n  description: one of many, so that a past catalog takes a while to build\nspec:\n  type: library\n  lifecycle: production\n  owner: group:default/team-b\n  dependsOn: [component:big-%04d]\n", i, (i+1)%bigCatalog))
	}
	big := filepath.Join(root, "big.yaml")
	if err := os.WriteFile(big, []byte(strings.Join(docs, "---\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return tokens, []string{fleet, leaky, big}
}

// catalogFlags are the --catalog flags of catalogs.
func catalogFlags(catalogs []string) []string {
	var args []string
	for _, c := range catalogs {
		args = append(args, "--catalog", c)
	}
	return args
}

// allowedReceiver is the one loopback address outbound calls may reach (the
// redirect attack's receiver); the rest of 127.0.0.0/8 stays refused.
const allowedReceiver = "127.0.0.2"

// startDevTarget runs `backlot dev` with a token file, as a developer who
// configured one does.
func startDevTarget(t *testing.T, bin string) *target {
	t.Helper()
	root := t.TempDir()
	tokens, catalogs := fixtures(t, root)
	addr := freeAddr(t)
	data := filepath.Join(root, "data")
	args := append([]string{"dev", "--data", data, "--addr", addr, "--refresh-interval", "1h",
		"--temporal-address", freeAddr(t), "--auth-tokens", tokens, "--max-streams", "2", "--allow-network", allowedReceiver + "/32"},
		catalogFlags(catalogs)...)
	cmd, out := start(t, bin, nil, args...)
	tg := &target{mode: "dev", base: "http://" + addr, addr: addr, data: data, temporalDB: filepath.Join(data, "temporal.db"),
		apiPID: cmd.Process.Pid, workerPID: cmd.Process.Pid, workerOut: out}
	tg.waitReady(t, tg.base)
	tg.waitCatalog(t)
	return tg
}

// startServeTarget runs the production shape: `backlot temporal serve`, a
// `backlot serve` process with the api, projector and ingester roles and a
// token file, and a worker process, on Kafka and PostgreSQL.
func startServeTarget(t *testing.T, bin string) *target {
	t.Helper()
	root := t.TempDir()
	tokens, catalogs := fixtures(t, root)
	data := filepath.Join(root, "data")
	temporal := freeAddr(t)
	temporalDB := filepath.Join(root, "temporal.db")
	start(t, bin, nil, "temporal", "serve", "--db", temporalDB, "--addr", temporal)
	deadline := time.Now().Add(90 * time.Second)
	for !portOpen(temporal) {
		if time.Now().After(deadline) {
			t.Fatal("backlot temporal serve did not listen within 90s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	prefix := kafkatest.TopicPrefix(t)
	// The PostgreSQL URL is in the environment, as deploy/ gives it: a
	// script must not read it.
	pgURL := pgtest.URL(t)
	env := []string{"BACKLOT_POSTGRES_URL=" + pgURL}
	common := []string{"--kafka-brokers", strings.Join(kafkatest.Brokers(t), ","), "--topic-prefix", prefix,
		"--group", prefix + "projector", "--partitions", "3", "--replication-factor", "1", "--temporal-address", temporal,
		"--data", data, "--log-format", "text", "--refresh-interval", "1h", "--allow-network", allowedReceiver + "/32"}
	addr := freeAddr(t)
	api, _ := start(t, bin, env, append(append([]string{"serve", "--roles", "api,projector,ingester", "--addr", addr, "--auth-tokens", tokens, "--max-streams", "2"},
		catalogFlags(catalogs)...), common...)...)
	workerAddr := freeAddr(t)
	worker, workerOut := start(t, bin, env, append([]string{"serve", "--roles", "worker", "--addr", workerAddr}, common...)...)
	tg := &target{mode: "serve", base: "http://" + addr, addr: addr, data: data, temporalDB: temporalDB, pgURL: pgURL,
		apiPID: api.Process.Pid, workerPID: worker.Process.Pid, workerOut: workerOut}
	tg.waitReady(t, tg.base)
	tg.waitReady(t, "http://"+workerAddr)
	tg.waitCatalog(t)
	return tg
}

func portOpen(addr string) bool {
	c, err := (&net.Dialer{Timeout: time.Second}).Dial("tcp", addr)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// waitReady waits for base's /readyz.
func (tg *target) waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s not ready within 2 minutes: %v", tg.mode, base, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitCatalog waits until every entity of the fixtures is readable: the
// fleet, the big catalog, the two templates and their Location entities.
func (tg *target) waitCatalog(t *testing.T) {
	t.Helper()
	want := fleetSize + bigCatalog + 2 + 3
	deadline := time.Now().Add(3 * time.Minute)
	for {
		var page struct {
			TotalItems int `json:"totalItems"`
		}
		r := tg.do(t, "GET", "/api/catalog/entities/by-query?limit=1", withToken())
		json.Unmarshal(r.body, &page)
		if r.status == http.StatusOK && page.TotalItems == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d entities after 3 minutes (%d %s), want %d", tg.mode, page.TotalItems, r.status, tail(string(r.body), 300), want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// answer is an HTTP answer.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// errorOf returns the name and message of a Backstage error body.
func (a answer) errorOf() (name, message string) {
	var e struct {
		Error struct{ Name, Message string } `json:"error"`
	}
	json.Unmarshal(a.body, &e)
	return e.Error.Name, e.Error.Message
}

func (a answer) String() string {
	return fmt.Sprintf("%d %s", a.status, tail(string(a.body), 600))
}

// reqOption changes a request before it is sent.
type reqOption func(*http.Request)

// withToken signs the request in as the operator.
func withToken() reqOption { return as(operator) }

// as signs the request in as p.
func as(p principal) reqOption {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+p.token) }
}

func withJSON(v any) reqOption {
	return func(r *http.Request) {
		raw, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		r.Body = io.NopCloser(bytes.NewReader(raw))
		r.ContentLength = int64(len(raw))
		r.Header.Set("Content-Type", "application/json")
	}
}

func withHeader(k, v string) reqOption {
	return func(r *http.Request) {
		if strings.EqualFold(k, "Host") {
			r.Host = v
			return
		}
		if v == "" {
			r.Header.Del(k)
			return
		}
		r.Header.Set(k, v)
	}
}

// do sends a request to the target and reads the whole answer.
func (tg *target) do(t *testing.T, method, path string, opts ...reqOption) answer {
	t.Helper()
	req, err := http.NewRequest(method, tg.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(req)
	}
	c := &http.Client{Timeout: 2 * time.Minute}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: body}
}
