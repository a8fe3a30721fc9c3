package security_test

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// attack is one sentence of issue 14's list, performed against a target.
type attack struct {
	// quote is the sentence, as written.
	quote string
	// name names the subtest.
	name string
	// run performs the attack and returns its outcome in words; it fails the
	// test when the attack is not refused with the documented error.
	run func(t *testing.T, tg *target) string
}

// attacks is issue 14's list of attacks ("Tried as an attacker would"), one
// entry per sentence, each performed against backlot dev and backlot serve.
var attacks = []attack{
	{
		quote: "With no token file (the default of `serve`, of `deploy/compose.yaml` and of the Kubernetes manifests), anyone who reaches the port sends `POST /api/migrations?dryRun=true` with a script and reads its output",
		name:  "no token file: the server does not start",
		run:   startWithoutTokens,
	},
	{
		quote: "anyone who reaches the port sends `POST /api/migrations?dryRun=true` with a script and reads its output: a shell as root in the api process",
		name:  "a dry run without a token",
		run:   dryRunWithoutToken,
	},
	{
		quote: "A real run with `merge: auto` merges the change into every target repository.",
		name:  "a real run without a token",
		run:   realRunWithoutToken,
	},
	// ---- Permission attacks: every route is decided by the permission
	// policy (internal/httpapi/authz*.go). The token file holds principals of
	// different groups (harness_test.go); each refusal is 403 NotAllowedError
	// naming the permission, recorded as a backlot.permission.denied.v1
	// event the auditor reads back.
	{
		quote: "With tokens, every token may do everything: any token starts migrations",
		name:  "a token outside the platform group starts migrations",
		run:   anyTokenStartsMigrations,
	},
	{
		quote: "a task's creator approves its own `backlot:approval` step",
		name:  "the creator approves its own task",
		run:   selfApproval,
	},
	{
		quote: "anyone cancels or retries anyone's task.",
		name:  "another principal cancels and retries a task",
		run:   controlOthersTasks,
	},
	{
		quote: "and audit events are readable",
		name:  "a non-auditor reads the audit trail",
		run:   auditByNonAuditor,
	},
	// ---- end of the permission attacks.
	{
		quote: "A migration script reads the worker's environment through `/proc/$PPID/environ` (git host tokens, the PostgreSQL URL, the secrets key).",
		name:  "a dry run's script reads the worker's environment",
		run:   scriptReadsEnvironment,
	},
	{
		quote: "`fetch:plain` and `fetch:template` accept an absolute or `../` url: a dry run returns any folder the server can read, the data folder and the key that seals Temporal secrets included.",
		name:  "fetch outside the template",
		run:   fetchOutside,
	},
	{
		quote: "Writes accept a request without `Content-Type`",
		name:  "a write without Content-Type",
		run:   writeWithoutContentType,
	},
	{
		quote: "and check no `Origin`: a web page a developer visits can post a migration to `backlot dev` on 127.0.0.1 (CSRF",
		name:  "a cross-site post",
		run:   crossSitePost,
	},
	{
		quote: "and DNS rebinding).",
		name:  "a rebound Host",
		run:   reboundHost,
	},
	{
		quote: "Webhook subscriptions may point at 169.254.169.254, loopback or private ranges",
		name:  "webhook subscriptions to refused addresses",
		run:   subscribeToRefusedAddresses,
	},
	{
		quote: "and deliveries follow redirects.",
		name:  "a delivery redirected",
		run:   deliveryRedirected,
	},
	{
		quote: "Secret values appear in clear in task logs (`debug:log`) and in the embedded Temporal database",
		name:  "a secret in the task log and the Temporal database",
		run:   secretInTaskLogAndTemporal,
	},
	{
		quote: "task logs, migration reports (script output) and audit events are readable without a token even when tokens are configured.",
		name:  "reads without a token",
		run:   readsWithoutToken,
	},
	{
		quote: "`replace` and `dump` escape the template cost limit: a 215-byte expression renders 100 MB.",
		name:  "replace and dump chains",
		run:   templateCost,
	},
	{
		quote: "Servers set no read, write or idle timeouts",
		name:  "a slow loris",
		run:   slowLoris,
	},
	{
		quote: "SSE streams",
		name:  "streams beyond the cap",
		run:   streamsBeyondTheCap,
	},
	{
		quote: "and as-of snapshots have no caps.",
		name:  "as-of builds beyond the cap",
		run:   asOfBeyondTheCap,
	},
}

// TestEveryAttackIsRefused starts backlot dev and backlot serve as an
// operator would, each with a token file, and performs every attack of the
// table against both.
func TestEveryAttackIsRefused(t *testing.T) {
	bin := binary(t)
	targets := []*target{startDevTarget(t, bin), startServeTarget(t, bin)}
	var outcomes []string
	for _, a := range attacks {
		for _, tg := range targets {
			tg.bin = bin
			t.Run(tg.mode+"/"+a.name, func(t *testing.T) {
				out := a.run(t, tg)
				status := "refused"
				if t.Failed() {
					status = "NOT REFUSED"
				}
				outcomes = append(outcomes, fmt.Sprintf("| %s | %s | %s: %s |", a.quote, tg.mode, status, out))
			})
		}
	}
	t.Log("attack | mode | outcome\n" + strings.Join(outcomes, "\n"))
}

// mustError checks an answer's status, Backstage error name and that its
// message holds each of words.
func mustError(t *testing.T, what string, a answer, status int, name string, words ...string) string {
	t.Helper()
	gotName, msg := a.errorOf()
	if a.status != status || gotName != name {
		t.Errorf("%s: %s, want %d %s", what, a, status, name)
		return a.String()
	}
	for _, w := range words {
		if !strings.Contains(msg, w) {
			t.Errorf("%s: the message %q does not name %q", what, msg, w)
		}
	}
	return fmt.Sprintf("%d %s %q", a.status, gotName, msg)
}

func startWithoutTokens(t *testing.T, tg *target) string {
	args := []string{"serve", "--addr", freeAddr(t)}
	if tg.mode == "dev" {
		// dev on loopback is for the developer alone; off loopback it refuses.
		args = []string{"dev", "--addr", "0.0.0.0:" + strings.Split(freeAddr(t), ":")[1], "--data", t.TempDir()}
	}
	cmd := exec.Command(tg.bin, args...)
	cmd.Env = serverEnv()
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("backlot %v still runs after 60s without a token file", args)
	}
	text := strings.TrimSpace(string(out))
	if err == nil {
		t.Fatalf("backlot %v started without a token file:\n%s", args, text)
	}
	for _, w := range []string{"refuses to start without an authenticator", "--auth-tokens", "--insecure-no-auth"} {
		if !strings.Contains(text, w) {
			t.Errorf("backlot %v: %q does not say %q", args, text, w)
		}
	}
	line := text
	if i := strings.Index(text, "refuses"); i >= 0 {
		line = text[max(0, i-40):]
	}
	return fmt.Sprintf("`backlot %s` exits (%v): %s", strings.Join(args[:3], " "), err, tail(line, 300))
}

// migrationSpec is a migration over the fleet running script, as JSON.
func migrationSpec(name, script string) map[string]any {
	return map[string]any{
		"apiVersion": "backlot.dev/v1alpha1", "kind": "Migration", "metadata": map[string]any{"name": name},
		"spec": map[string]any{
			"targets":     map[string]any{"selector": `entity.kind == "Component" && entity.spec.type == "service"`},
			"change":      map[string]any{"script": script, "timeout": "2m"},
			"pullRequest": map[string]any{"branch": "backlot/" + name, "title": name},
			"merge":       "auto",
		},
	}
}

func dryRunWithoutToken(t *testing.T, tg *target) string {
	a := tg.do(t, "POST", "/api/migrations?dryRun=true", withJSON(migrationSpec("whoami", "id; cat /proc/$PPID/environ")))
	return mustError(t, "a dry run without a token", a, http.StatusUnauthorized, "AuthenticationError")
}

func realRunWithoutToken(t *testing.T, tg *target) string {
	a := tg.do(t, "POST", "/api/migrations", withJSON(migrationSpec("takeover", "echo owned > OWNED")))
	out := mustError(t, "a migration without a token", a, http.StatusUnauthorized, "AuthenticationError")
	var changes struct {
		Items []json.RawMessage `json:"items"`
	}
	for i := range fleetSize {
		r := tg.do(t, "GET", fmt.Sprintf("/api/git/repos/team-a/svc-%03d/changes", i), withToken())
		json.Unmarshal(r.body, &changes)
		if r.status != http.StatusOK || len(changes.Items) != 0 {
			t.Errorf("svc-%03d: change requests %s, want none", i, r)
		}
	}
	return out + "; no change request opened"
}

// bwrapAncestors watches, until stop closes, the bubblewrap processes of the
// machine and records which of pids each descends from.
func bwrapAncestors(pids []int, stop <-chan struct{}) <-chan map[int]int {
	found := make(chan map[int]int, 1)
	go func() {
		seen := map[int]int{} // bwrap pid → the ancestor among pids (0: none)
		for {
			entries, _ := os.ReadDir("/proc")
			for _, e := range entries {
				pid, err := strconv.Atoi(e.Name())
				if err != nil {
					continue
				}
				if _, ok := seen[pid]; ok {
					continue
				}
				comm, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
				if err != nil || strings.TrimSpace(string(comm)) != "bwrap" {
					continue
				}
				for p := pid; p > 1; p = parentOf(p) {
					if i := indexOf(pids, p); i >= 0 {
						seen[pid] = p
						break
					}
				}
			}
			select {
			case <-stop:
				out := map[int]int{}
				for k, v := range seen {
					if v != 0 {
						out[k] = v
					}
				}
				found <- out
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return found
}

func indexOf(xs []int, x int) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

// parentOf reads a process's parent pid from /proc, 0 when it is gone.
func parentOf(pid int) int {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(fields[1])
	return ppid
}

func scriptReadsEnvironment(t *testing.T, tg *target) string {
	script := `echo "uid=$(id -u)"
echo "== /proc/1/environ"; tr '\0' '\n' < /proc/1/environ 2>&1
echo "== /proc/$PPID/environ"; tr '\0' '\n' < /proc/$PPID/environ 2>&1
echo "== env"; env
echo "pids=$(ls -d /proc/[0-9]* | wc -l)"
sleep 2
echo reached > REACHED.md`
	stop := make(chan struct{})
	watch := bwrapAncestors([]int{tg.apiPID, tg.workerPID}, stop)
	a := tg.do(t, "POST", "/api/migrations?dryRun=true", withToken(), withJSON(migrationSpec("read-env", script)))
	close(stop)
	ancestors := <-watch
	var plan struct {
		Previews []struct {
			Ref, Diff, Output, Error string
		} `json:"previews"`
	}
	if err := json.Unmarshal(a.body, &plan); a.status != http.StatusOK || err != nil || len(plan.Previews) != fleetSize {
		t.Fatalf("dry run: %s", a)
	}
	p := plan.Previews[0]
	if p.Error != "" || !strings.Contains(p.Diff, "REACHED.md") || !strings.Contains(p.Output, "uid=65534") {
		t.Fatalf("the script did not run to its end as nobody: %+v", p)
	}
	secrets := map[string]string{"the secrets key": secretsKey, "the git host token": workerSecret}
	if tg.pgURL != "" {
		secrets["the PostgreSQL URL"] = tg.pgURL
	}
	for what, secret := range secrets {
		for _, pv := range plan.Previews {
			if strings.Contains(pv.Output, secret) || strings.Contains(pv.Diff, secret) {
				t.Errorf("%s: the script's output holds %s:\n%s", pv.Ref, what, pv.Output)
			}
		}
	}
	for _, v := range []string{"PATH=", "HOME="} {
		if !strings.Contains(p.Output, v) {
			t.Errorf("the script's env printed no %s: the check above saw no environment", v)
		}
	}
	pids := ""
	if i := strings.Index(p.Output, "pids="); i >= 0 {
		pids = strings.TrimSpace(p.Output[i+5:])
		if j := strings.IndexByte(pids, '\n'); j >= 0 {
			pids = pids[:j]
		}
	}
	if n, err := strconv.Atoi(pids); err != nil || n > 6 {
		t.Errorf("the script sees %q processes, want only its own few", pids)
	}
	var onWorker, onAPI int
	for _, anc := range ancestors {
		switch anc {
		case tg.workerPID:
			onWorker++
		case tg.apiPID:
			onAPI++
		}
	}
	if tg.mode == "serve" && (onWorker == 0 || onAPI != 0) {
		t.Errorf("bubblewrap processes under the worker %d, under the api process %d: want the scripts on the worker only", onWorker, onAPI)
	}
	if tg.mode == "dev" && onWorker == 0 {
		t.Errorf("no bubblewrap process seen under backlot dev: the script did not run sandboxed")
	}
	where := "in bubblewrap under the worker process (none under the api process)"
	held := "BACKLOT_SECRETS_KEY, GITHUB_TOKEN nor BACKLOT_POSTGRES_URL"
	if tg.mode == "dev" {
		where = "in bubblewrap under backlot dev's worker"
		held = "BACKLOT_SECRETS_KEY nor GITHUB_TOKEN"
	}
	return fmt.Sprintf("the script ran as uid 65534 %s, seeing %s processes; /proc/1/environ, /proc/$PPID/environ and env hold neither %s; the worker said at start: %s", where, pids, held, processLimitLine(t, tg))
}

// processLimitLine is the line the worker logs at start on what bounds the
// process count of scripts: a pids cgroup, RLIMIT_NPROC, or a warning that
// neither holds (a root worker without a pids cgroup).
func processLimitLine(t *testing.T, tg *target) string {
	t.Helper()
	for _, line := range strings.Split(tg.workerOut.String(), "\n") {
		if strings.Contains(line, "process count is bounded") || strings.Contains(line, "process limit does NOT hold") {
			if i := strings.Index(line, "migration scripts"); i >= 0 {
				line = line[i:]
			}
			return strings.TrimSpace(strings.ReplaceAll(line, `"`, ""))
		}
	}
	t.Errorf("the worker logged no line on the scripts' process limit (pids cgroup or RLIMIT_NPROC) at start")
	return "(nothing)"
}

// scaffolderDryRun dry-runs a template of one step.
func scaffolderDryRun(t *testing.T, tg *target, action string, input map[string]any) answer {
	t.Helper()
	tpl := map[string]any{
		"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template", "metadata": map[string]any{"name": "probe"},
		"spec": map[string]any{"type": "service", "steps": []any{map[string]any{"id": "probe", "action": action, "input": input}}},
	}
	return tg.do(t, "POST", "/api/scaffolder/v2/dry-run", withToken(), withJSON(map[string]any{
		"template": tpl, "values": map[string]any{},
		"directoryContents": []any{map[string]any{"path": "skeleton/README.md", "base64Content": base64.StdEncoding.EncodeToString([]byte("hello\n"))}},
	}))
}

func fetchOutside(t *testing.T, tg *target) string {
	var outs []string
	for _, action := range []string{"fetch:plain", "fetch:template"} {
		for u, reason := range map[string]string{tg.data: "is absolute", "../../": "leaves"} {
			a := scaffolderDryRun(t, tg, action, map[string]any{"url": u})
			if strings.Contains(string(a.body), "secrets.key") || strings.Contains(string(a.body), base64.StdEncoding.EncodeToString([]byte(secretsKey))[:16]) {
				t.Errorf("%s %s: the answer holds the data folder: %s", action, u, a)
			}
			outs = append(outs, action+" "+u+": "+mustError(t, action+" "+u, a, http.StatusBadRequest, "InputError", "steps.probe.input.url", reason))
		}
	}
	return strings.Join(outs, "; ")
}

func writeWithoutContentType(t *testing.T, tg *target) string {
	// A JSON body, as a form or fetch() without headers sends it: no type.
	a := tg.do(t, "POST", "/api/migrations?dryRun=true", withToken(), withJSON(migrationSpec("no-type", "true")), withHeader("Content-Type", ""))
	return mustError(t, "a write without Content-Type", a, http.StatusUnsupportedMediaType, "UnsupportedMediaTypeError", "Content-Type")
}

func crossSitePost(t *testing.T, tg *target) string {
	// The page's browser sends no bearer token: Backlot's tokens are never cookies.
	a := tg.do(t, "POST", "/api/migrations?dryRun=true", withJSON(migrationSpec("csrf", "true")), withHeader("Origin", "https://evil.example"))
	if tg.mode == "dev" {
		return mustError(t, "a cross-site post", a, http.StatusForbidden, "NotAllowedError", "Origin")
	}
	return mustError(t, "a cross-site post", a, http.StatusUnauthorized, "AuthenticationError") + " (serve checks no Origin: the page holds no bearer token)"
}

func reboundHost(t *testing.T, tg *target) string {
	_, port, _ := net.SplitHostPort(tg.addr)
	a := tg.do(t, "POST", "/api/migrations?dryRun=true", withJSON(migrationSpec("rebind", "true")), withHeader("Host", "attacker.example:"+port))
	r := tg.do(t, "GET", "/api/catalog/entities?limit=1", withHeader("Host", "attacker.example:"+port))
	if tg.mode == "dev" {
		mustError(t, "a rebound read", r, http.StatusForbidden, "NotAllowedError", "Host")
		return mustError(t, "a rebound write", a, http.StatusForbidden, "NotAllowedError", "Host")
	}
	mustError(t, "a rebound read", r, http.StatusUnauthorized, "AuthenticationError")
	return mustError(t, "a rebound write", a, http.StatusUnauthorized, "AuthenticationError") + " (reads and writes alike: the page holds no bearer token)"
}

func subscribeToRefusedAddresses(t *testing.T, tg *target) string {
	var outs []string
	for _, c := range []struct{ url, class string }{
		{"http://169.254.169.254/latest/meta-data/", "169.254.169.254:80 (metadata address)"},
		{"http://127.0.0.1:7007/api/migrations", "127.0.0.1:7007 (loopback address)"},
		{"http://10.0.0.1/hook", "10.0.0.1:80 (private address)"},
		{"http://100.64.0.1/hook", "100.64.0.1:80 (CGNAT address)"},
	} {
		a := tg.do(t, "POST", "/api/events/subscriptions", withToken(), withJSON(map[string]string{"url": c.url, "secret": "a-secret-of-16-chars-or-more"}))
		out := mustError(t, "a subscription to "+c.url, a, http.StatusBadRequest, "InputError", `url "`+c.url+`"`, c.class)
		outs = append(outs, out)
	}
	return strings.Join(outs, "; ")
}

func deliveryRedirected(t *testing.T, tg *target) string {
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", allowedReceiver+":0")
		if err != nil {
			t.Fatalf("listen on %s: %v", allowedReceiver, err)
		}
		return ln
	}
	var stolen, asked atomic.Int32
	elsewhere := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { stolen.Add(1) }))
	elsewhere.Listener = listen()
	elsewhere.Start()
	defer elsewhere.Close()
	redirector := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		http.Redirect(w, r, elsewhere.URL+"/stolen", http.StatusFound)
	}))
	redirector.Listener = listen()
	redirector.Start()
	defer redirector.Close()
	a := tg.do(t, "POST", "/api/events/subscriptions", withToken(), withJSON(map[string]string{"url": redirector.URL, "secret": "a-secret-of-16-chars-or-more"}))
	var sub struct{ ID string }
	if json.Unmarshal(a.body, &sub); a.status != http.StatusCreated || sub.ID == "" {
		t.Fatalf("subscribe to the redirector on the allowed address: %s", a)
	}
	defer tg.do(t, "DELETE", "/api/events/subscriptions/"+sub.ID, withToken())
	// An event after the subscription: a new location.
	dir := filepath.Dir(tg.data)
	f := filepath.Join(dir, "hooked-"+tg.mode+".yaml")
	os.WriteFile(f, []byte("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: hooked\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"), 0o644)
	if r := tg.do(t, "POST", "/api/catalog/locations", withToken(), withJSON(map[string]string{"type": "file", "target": f})); r.status != http.StatusCreated {
		t.Fatalf("register a location: %s", r)
	}
	defer func() {
		// The next attacks count the catalog's entities: remove it again.
		var locs []struct {
			Data struct{ ID, Target string } `json:"data"`
		}
		r := tg.do(t, "GET", "/api/catalog/locations", withToken())
		json.Unmarshal(r.body, &locs)
		for _, l := range locs {
			if l.Data.Target == f {
				tg.do(t, "DELETE", "/api/catalog/locations/"+l.Data.ID, withToken())
			}
		}
	}()
	deadline := time.Now().Add(90 * time.Second)
	for asked.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the redirector was asked %d times in 90s, want a delivery and its retry", asked.Load())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := stolen.Load(); n != 0 {
		t.Errorf("the redirect's target was requested %d times", n)
	}
	return fmt.Sprintf("the delivery answered 302 was tried %d times as a failure; the redirect's target was requested %d times", asked.Load(), stolen.Load())
}

// leakyTasks runs the leaky template once per target.
var leakyTasks sync.Map // *target → string (task id)

// leakyTask runs the leaky template with taskSecret and waits for its end.
func leakyTask(t *testing.T, tg *target) string {
	t.Helper()
	if id, ok := leakyTasks.Load(tg); ok {
		return id.(string)
	}
	a := tg.do(t, "POST", "/api/scaffolder/v2/tasks", withToken(), withJSON(map[string]any{
		"templateRef": "template:default/leaky", "values": map[string]any{}, "secrets": map[string]string{"token": taskSecret}}))
	var created struct{ ID string }
	if json.Unmarshal(a.body, &created); a.status != http.StatusCreated || created.ID == "" {
		t.Fatalf("create the task: %s", a)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		r := tg.do(t, "GET", "/api/scaffolder/v2/tasks/"+created.ID, withToken())
		if strings.Contains(string(r.body), `"status":"completed"`) {
			break
		}
		if strings.Contains(string(r.body), `"status":"failed"`) || time.Now().After(deadline) {
			t.Fatalf("the task did not complete: %s", r)
		}
		time.Sleep(100 * time.Millisecond)
	}
	leakyTasks.Store(tg, created.ID)
	return created.ID
}

func secretInTaskLogAndTemporal(t *testing.T, tg *target) string {
	id := leakyTask(t, tg)
	log := tg.do(t, "GET", "/api/scaffolder/v2/tasks/"+id+"/events", withToken())
	if log.status != http.StatusOK || !strings.Contains(string(log.body), "token ***") {
		t.Fatalf("the task log does not show the masked line: %s", log)
	}
	forms := []string{taskSecret, base64.StdEncoding.EncodeToString([]byte(taskSecret)), "Sekr1t"}
	for _, f := range forms {
		if strings.Contains(string(log.body), f) {
			t.Errorf("the task log holds the secret as %q", f)
		}
	}
	files, _ := filepath.Glob(tg.temporalDB + "*")
	var size int64
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if errors.Is(err, fs.ErrNotExist) {
			continue // a rollback journal lives only while its transaction does
		}
		if err != nil {
			t.Fatal(err)
		}
		size += int64(len(raw))
		for _, f := range forms {
			if strings.Contains(string(raw), f) {
				t.Errorf("%s holds the secret as %q", filepath.Base(file), f)
			}
		}
	}
	// The control: the files hold the task's workflow, so the search above
	// read the right database.
	if db := string(mustRead(t, tg.temporalDB)) + walOf(tg.temporalDB); !strings.Contains(db, id) {
		t.Errorf("the Temporal database (%d bytes in %v) does not hold the task: the check above saw nothing", size, files)
	}
	return fmt.Sprintf("the task log says %q; %s (%d bytes, %d files) holds the task but not the secret, its base64 or a part of it", "token ***", filepath.Base(tg.temporalDB), size, len(files))
}

func mustRead(t *testing.T, f string) []byte {
	t.Helper()
	raw, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func walOf(f string) string {
	raw, _ := os.ReadFile(f + "-wal")
	return string(raw)
}

func readsWithoutToken(t *testing.T, tg *target) string {
	id := leakyTask(t, tg)
	// The migration report of the platform's run (anyTokenStartsMigrations).
	report := "/api/migrations/any"
	if mid, ok := platformMigrations.Load(tg); ok {
		report = "/api/migrations/" + mid.(string)
	} else {
		t.Error("no migration of the platform token to read: the migration attack did not start one")
	}
	var outs []string
	for _, path := range []string{"/api/scaffolder/v2/tasks/" + id + "/events", "/api/scaffolder/v2/tasks/" + id, "/api/migrations", report, "/api/audit/events"} {
		if r := tg.do(t, "GET", path, withToken()); path != "/api/migrations/any" && r.status != http.StatusOK {
			t.Errorf("GET %s with the token: %s, want 200 (the control)", path, r)
		}
		a := tg.do(t, "GET", path)
		outs = append(outs, "GET "+path+": "+mustError(t, "GET "+path+" without a token", a, http.StatusUnauthorized, "AuthenticationError"))
		if a.header.Get("WWW-Authenticate") == "" {
			t.Errorf("GET %s: 401 without WWW-Authenticate", path)
		}
	}
	return strings.Join(outs, "; ")
}

func templateCost(t *testing.T, tg *target) string {
	var outs []string
	for name, expr := range map[string]string{
		// 10 bytes grown tenfold seven times: 100 MB without the cost limit.
		// The template engine is Backstage's (nunjucks): replace and dump
		// are filters.
		"replace": "${{ \"aaaaaaaaaa\"" + strings.Repeat(` | replace("a","aaaaaaaaaa")`, 7) + " }}",
		// Each dump escapes the last one's quotes and backslashes: it doubles.
		"dump": "${{ \"\\\"\"" + strings.Repeat(` | dump`, 40) + " }}",
	} {
		a := scaffolderDryRun(t, tg, "debug:log", map[string]any{"message": expr})
		if len(a.body) > 1<<20 {
			t.Errorf("%s: the answer is %d bytes", name, len(a.body))
		}
		_, msg := a.errorOf()
		if a.status != http.StatusBadRequest || !strings.Contains(msg, "cost limit") && !strings.Contains(msg, "2097152") {
			t.Errorf("%s chain (%d bytes): %s, want 400 naming the cost limit", name, len(expr), a)
		}
		outs = append(outs, fmt.Sprintf("the %d-byte %s chain: %s", len(expr), name, tail(a.String(), 300)))
	}
	return strings.Join(outs, "; ")
}

func slowLoris(t *testing.T, tg *target) string {
	conn, err := net.Dial("tcp", tg.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	closed := make(chan string, 1)
	go func() {
		line, err := bufio.NewReader(conn).ReadString('\n')
		closed <- strings.TrimSpace(line) + fmt.Sprintf(" (%v)", err)
	}()
	started := time.Now()
	fmt.Fprintf(conn, "GET /api/catalog/entities HTTP/1.1\r\nHost: %s\r\n", tg.addr)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case got := <-closed:
			took := time.Since(started).Round(100 * time.Millisecond)
			return fmt.Sprintf("a header line a second: the server cut the connection after %s, answering %q", took, got)
		case <-tick.C:
			if _, err := fmt.Fprintf(conn, "X-Slow-%d: x\r\n", i); err != nil {
				return fmt.Sprintf("a header line a second: the server cut the connection after %s (%v)", time.Since(started).Round(100*time.Millisecond), err)
			}
			if time.Since(started) > 2*time.Minute {
				t.Fatal("the server still reads headers sent for 2 minutes")
			}
		}
	}
}

func streamsBeyondTheCap(t *testing.T, tg *target) string {
	var open []*http.Response
	defer func() {
		for _, r := range open {
			r.Body.Close()
		}
	}()
	c := &http.Client{}
	for i := range 2 {
		req, _ := http.NewRequest("GET", tg.base+"/api/events/stream", nil)
		withToken()(req)
		resp, err := c.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("stream %d: %v %v", i+1, err, resp)
		}
		open = append(open, resp)
	}
	a := tg.do(t, "GET", "/api/events/stream", withToken())
	out := mustError(t, "a third stream", a, http.StatusTooManyRequests, "TooManyRequestsError", "service:secsuite", "2 streams")
	if a.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	return "with --max-streams 2 and two streams open, the third: " + out + ", Retry-After " + a.header.Get("Retry-After")
}

func asOfBeyondTheCap(t *testing.T, tg *target) string {
	const burst = 8
	// Both histories (SQLite on dev, PostgreSQL on serve) answer any
	// instant themselves once they keep the catalog rows; the cap on
	// builds (asof.MaxBuilding) holds while the rows are built, and its
	// unit test is asof's TestBuildsAtOnceAreCapped.
	return asOfAnsweredDirectly(t, tg, burst)
}

// asOfAnsweredDirectly is the attack against a history that answers the
// catalog at any instant itself (asof's direct path) once it keeps the
// catalog rows: the first read at an instant starts building them and is
// answered by a built catalog (capped as in serve) meanwhile. Once they are
// kept, a burst of reads at distinct instants is answered, all of it, and
// nothing more is built.
func asOfAnsweredDirectly(t *testing.T, tg *target, burst int) string {
	scratch := filepath.Join(tg.data, "asof")
	built := func() map[string]bool {
		out := map[string]bool{}
		entries, _ := os.ReadDir(scratch)
		for _, e := range entries {
			out[e.Name()] = true
		}
		return out
	}
	for round := range 50 {
		before := built()
		var wg sync.WaitGroup
		answers := make([]answer, burst)
		for i := range burst {
			at := time.Now().UTC().Add(-time.Duration(round*burst+i) * time.Millisecond).Format(time.RFC3339Nano)
			wg.Go(func() {
				answers[i] = tg.do(t, "GET", "/api/catalog/entities/by-query?limit=1&asOf="+url.QueryEscape(at), withToken())
			})
		}
		wg.Wait()
		direct := true
		for _, a := range answers {
			switch a.status {
			case http.StatusOK:
			case http.StatusServiceUnavailable:
				direct = false // a build beyond the cap, while the rows are built
			default:
				t.Fatalf("an asOf read: %s", a)
			}
		}
		for name := range built() {
			if !before[name] {
				direct = false
			}
		}
		if direct {
			return fmt.Sprintf("%d asOf reads at once at distinct instants, answered from the history directly once it keeps the catalog rows (round %d): nothing built, none refused", burst, round+1)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("50 bursts of %d asOf reads: the history never answered them directly", burst)
	return ""
}
