package deploy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// backlotImage is the repository every Backlot container must come from; the tag
// must be the one the Dockerfile labels.
const backlotImage = "ghcr.io/backlot-dev/backlot"

// Paths relative to deploy/, the test's working directory.
const (
	dockerfilePath    = "Dockerfile"
	composePath       = "compose.yaml"
	kubernetesDir     = "kubernetes"
	kustomizationPath = "kubernetes/kustomization.yaml"
	readmePath        = "README.md"
)

// object is one Kubernetes object and the file it came from.
type object struct {
	file string
	m    map[string]any
}

func (o object) kind() string { return str(o.m, "kind") }
func (o object) name() string { return str(o.m, "metadata", "name") }
func (o object) namespace() string {
	if ns := str(o.m, "metadata", "namespace"); ns != "" {
		return ns
	}
	return "default"
}
func (o object) String() string { return o.file + " " + o.kind() + " " + o.name() }

// readYAML decodes every document of a YAML file; empty documents are skipped.
// Errors name the file.
func readYAML(path string) ([]map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []map[string]any
	for i := 1; ; i++ {
		var doc any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", path, i, err)
		}
		if doc == nil {
			continue
		}
		m, ok := doc.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: document %d is a %T, not a mapping", path, i, doc)
		}
		docs = append(docs, m)
	}
}

// yamlFiles lists every .yaml and .yml file under deploy/.
func yamlFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			files = append(files, filepath.ToSlash(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// dockerTag is the image tag the Dockerfile labels (org.opencontainers.image.version);
// it fails the test when any image reference in the Dockerfile disagrees.
func dockerTag(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(dockerfilePath)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`org\.opencontainers\.image\.version="([^"]+)"`).FindSubmatch(data)
	if m == nil {
		t.Fatalf("%s: no org.opencontainers.image.version label", dockerfilePath)
	}
	tag := string(m[1])
	for _, ref := range regexp.MustCompile(regexp.QuoteMeta(backlotImage)+`:([A-Za-z0-9._-]+)`).FindAllSubmatch(data, -1) {
		if string(ref[1]) != tag {
			t.Errorf("%s: %s disagrees with the version label %s", dockerfilePath, ref[0], tag)
		}
	}
	return tag
}

// kubeObjects reads every Kubernetes object of kubernetes/ but the
// kustomization, and adds the Secrets its secretGenerator makes from what
// gen-secrets.sh writes.
func kubeObjects(t *testing.T) []object {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(kubernetesDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var objs []object
	for _, f := range files {
		f = filepath.ToSlash(f)
		if f == kustomizationPath {
			continue
		}
		docs, err := readYAML(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			objs = append(objs, object{file: f, m: d})
		}
	}
	if len(objs) == 0 {
		t.Fatalf("no objects in %s/", kubernetesDir)
	}
	return append(objs, generatedSecrets(t)...)
}

// composeServices reads compose.yaml's services, with YAML merges resolved.
func composeServices(t *testing.T) map[string]map[string]any {
	t.Helper()
	docs, err := readYAML(composePath)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 {
		t.Fatalf("%s: %d documents, want 1", composePath, len(docs))
	}
	services := map[string]map[string]any{}
	for name, v := range mapAt(docs[0], "services") {
		svc, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: service %s is not a mapping", composePath, name)
		}
		services[name] = svc
	}
	if len(services) == 0 {
		t.Fatalf("%s: no services", composePath)
	}
	return services
}

// isBacklot tells whether a compose service or container runs the Backlot image.
func isBacklot(image string) bool { return strings.HasPrefix(image, backlotImage+":") }

// TestYAMLParses decodes every YAML file under deploy/, every document of it.
func TestYAMLParses(t *testing.T) {
	files := yamlFiles(t)
	for _, want := range []string{composePath, kustomizationPath} {
		if !slices.Contains(files, want) {
			t.Errorf("%s is missing", want)
		}
	}
	for _, f := range files {
		docs, err := readYAML(f)
		if err != nil {
			t.Error(err)
			continue
		}
		if len(docs) == 0 {
			t.Errorf("%s: no documents", f)
		}
	}
}

// TestKubernetesManifests checks the objects, the Deployments and their
// PodDisruptionBudgets and Services, and the kustomization, without the binary.
func TestKubernetesManifests(t *testing.T) {
	tag := dockerTag(t)
	objs := kubeObjects(t)
	seen := map[string]string{}
	for _, o := range objs {
		for _, field := range [][]string{{"apiVersion"}, {"kind"}, {"metadata", "name"}} {
			if str(o.m, field...) == "" {
				t.Errorf("%s: an object has no %s", o.file, strings.Join(field, "."))
			}
		}
		id := o.kind() + " " + o.namespace() + "/" + o.name()
		if prev, dup := seen[id]; dup {
			t.Errorf("%s: %s is also in %s", o.file, id, prev)
		}
		seen[id] = o.file
	}

	deployments := byKind(objs, "Deployment")
	if len(deployments) == 0 {
		t.Fatal("no Deployment")
	}
	for _, d := range deployments {
		podLabels := mapAt(d.m, "spec", "template", "metadata", "labels")
		if sel := mapAt(d.m, "spec", "selector", "matchLabels"); len(sel) == 0 || !matches(sel, podLabels) {
			t.Errorf("%s: spec.selector.matchLabels %v does not select the pod labels %v", d, sel, podLabels)
		}
		if b, ok := mapAt(d.m, "spec", "template", "spec", "securityContext")["runAsNonRoot"].(bool); !ok || !b {
			t.Errorf("%s: the pod's securityContext does not set runAsNonRoot: true", d)
		}
		containers := list(mapAt(d.m, "spec", "template", "spec")["containers"])
		if len(containers) == 0 {
			t.Errorf("%s: no containers", d)
		}
		for _, c := range containers {
			c, _ := c.(map[string]any)
			where := d.String() + " container " + str(c, "name")
			image := str(c, "image")
			if image != backlotImage+":"+tag {
				t.Errorf("%s: image %q, want %s:%s (the Dockerfile's version label)", where, image, backlotImage, tag)
			}
			for _, probe := range []string{"livenessProbe", "readinessProbe"} {
				if len(mapAt(c, probe)) == 0 {
					t.Errorf("%s: no %s", where, probe)
				}
			}
			req := mapAt(c, "resources", "requests")
			for _, r := range []string{"cpu", "memory"} {
				if req[r] == nil {
					t.Errorf("%s: no resources.requests.%s", where, r)
				}
			}
			if len(list(c["ports"])) == 0 {
				t.Errorf("%s: no ports", where)
			}
		}
	}

	// Every Deployment has exactly one PodDisruptionBudget, and no budget covers
	// pods of two Deployments.
	pdbs := byKind(objs, "PodDisruptionBudget")
	for _, d := range deployments {
		podLabels := mapAt(d.m, "spec", "template", "metadata", "labels")
		var covering []string
		for _, p := range pdbs {
			sel := mapAt(p.m, "spec", "selector", "matchLabels")
			if p.namespace() == d.namespace() && len(sel) > 0 && matches(sel, podLabels) {
				covering = append(covering, p.String())
			}
		}
		if len(covering) != 1 {
			t.Errorf("%s: %d PodDisruptionBudgets select its pods %v, want 1: %v", d, len(covering), podLabels, covering)
		}
	}
	for _, p := range pdbs {
		if len(mapAt(p.m, "spec", "selector", "matchLabels")) == 0 {
			t.Errorf("%s: no spec.selector.matchLabels", p)
		}
	}

	// Every Service selects some Deployment's pods, on a port its containers name.
	for _, s := range byKind(objs, "Service") {
		sel := mapAt(s.m, "spec", "selector")
		var target *object
		for i, d := range deployments {
			if d.namespace() == s.namespace() && len(sel) > 0 && matches(sel, mapAt(d.m, "spec", "template", "metadata", "labels")) {
				target = &deployments[i]
			}
		}
		if target == nil {
			t.Errorf("%s: selector %v selects no Deployment's pods", s, sel)
			continue
		}
		for _, p := range list(mapAt(s.m, "spec")["ports"]) {
			p, _ := p.(map[string]any)
			tp := fmt.Sprint(p["targetPort"])
			if p["targetPort"] == nil {
				tp = fmt.Sprint(p["port"])
			}
			if !containerPorts(*target)[tp] {
				t.Errorf("%s: targetPort %s is not a port of %s", s, tp, target)
			}
		}
	}

	// envFrom names objects that exist.
	for _, d := range deployments {
		for _, c := range list(mapAt(d.m, "spec", "template", "spec")["containers"]) {
			c, _ := c.(map[string]any)
			for _, ef := range list(c["envFrom"]) {
				ef, _ := ef.(map[string]any)
				for ref, kind := range map[string]string{"configMapRef": "ConfigMap", "secretRef": "Secret"} {
					if name := str(ef, ref, "name"); name != "" && find(objs, kind, d.namespace(), name) == nil {
						t.Errorf("%s: envFrom %s %s is not in the manifests", d, kind, name)
					}
				}
			}
		}
	}

	// The kustomization lists every file, and every file it lists exists.
	docs, err := readYAML(kustomizationPath)
	if err != nil {
		t.Fatal(err)
	}
	var resources []string
	for _, r := range list(docs[0]["resources"]) {
		r := fmt.Sprint(r)
		resources = append(resources, r)
		if _, err := os.Stat(filepath.Join(kubernetesDir, r)); err != nil {
			t.Errorf("%s: resource %s: %v", kustomizationPath, r, err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(kubernetesDir, "*.y*ml"))
	for _, f := range files {
		if rel := filepath.Base(f); filepath.ToSlash(f) != kustomizationPath && !slices.Contains(resources, rel) {
			t.Errorf("%s: %s is not listed in resources", kustomizationPath, rel)
		}
	}
}

// TestCompose checks compose.yaml without the binary: the infrastructure services,
// the Backlot services' image, healthchecks and dependencies.
func TestCompose(t *testing.T) {
	tag := dockerTag(t)
	services := composeServices(t)
	for _, infra := range []string{"kafka", "postgres", "temporal"} {
		found := false
		for _, svc := range services {
			found = found || strings.Contains(str(svc, "image"), infra)
		}
		if !found {
			t.Errorf("%s: no service runs a %s image", composePath, infra)
		}
	}
	backlot := 0
	for name, svc := range services {
		image := str(svc, "image")
		if !isBacklot(image) {
			continue
		}
		backlot++
		where := composePath + " service " + name
		if image != backlotImage+":"+tag {
			t.Errorf("%s: image %q, want %s:%s (the Dockerfile's version label)", where, image, backlotImage, tag)
		}
		if str(svc, "build", "dockerfile") == "" {
			t.Errorf("%s: no build.dockerfile", where)
		}
		if hc := mapAt(svc, "healthcheck"); hc["test"] == nil || hc["disable"] == true {
			t.Errorf("%s: no healthcheck", where)
		}
		deps := mapAt(svc, "depends_on")
		if len(deps) == 0 {
			t.Errorf("%s: no depends_on", where)
		}
		for dep, cond := range deps {
			target, ok := services[dep]
			if !ok {
				t.Errorf("%s: depends on %s, which is not a service", where, dep)
				continue
			}
			if c := str(mapAt(cond), "condition"); c != "service_healthy" {
				t.Errorf("%s: depends on %s with condition %q, want service_healthy", where, dep, c)
			}
			if mapAt(target, "healthcheck")["test"] == nil {
				t.Errorf("%s: depends on %s being healthy, which has no healthcheck", where, dep)
			}
		}
	}
	if backlot == 0 {
		t.Errorf("%s: no service runs %s", composePath, backlotImage)
	}
}

var (
	binOnce sync.Once
	binHelp string
	binErr  error
)

// serveHelpText builds the real binary once, into a temporary folder, and returns
// what `backlot serve --help` prints.
func serveHelpText(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "backlot-deploy-test-")
		if err != nil {
			binErr = err
			return
		}
		defer os.RemoveAll(dir)
		bin := filepath.Join(dir, "backlot")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		// go test puts its own toolchain first on PATH.
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "../cmd/backlot").CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build ../cmd/backlot: %v\n%s", err, out)
			return
		}
		ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "serve", "--help")
		cmd.Env = cleanEnv()
		out, err := cmd.CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("backlot serve --help: %v\n%s", err, out)
			return
		}
		binHelp = string(out)
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binHelp
}

// cleanEnv is the test's environment without BACKLOT_* variables, so the help
// shows the binary's own defaults.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BACKLOT_") {
			env = append(env, kv)
		}
	}
	return env
}

// TestAgainstServeHelp checks every command line, role, BACKLOT_* variable and
// port in compose.yaml and the Deployments against `backlot serve --help` of the
// binary built from this repository, and the README's configuration table against
// the variables the help names.
func TestAgainstServeHelp(t *testing.T) {
	checkAgainstHelp(t, serveHelpText(t))
}

// checkAgainstHelp runs TestAgainstServeHelp's checks against a help text.
func checkAgainstHelp(t *testing.T, help string) {
	t.Helper()
	h, err := parseServeHelp(help)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := h.defaultAddr()
	if err != nil {
		t.Fatal(err)
	}
	defPort, err := addrPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	fail := func(problems []string) {
		for _, p := range problems {
			t.Error(p)
		}
	}

	// The Dockerfile exposes the default port.
	data, err := os.ReadFile(dockerfilePath)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^EXPOSE\s+(.+)$`).FindSubmatch(data)
	if m == nil || !slices.ContainsFunc(strings.Fields(string(m[1])), func(p string) bool { return strings.TrimSuffix(p, "/tcp") == defPort }) {
		t.Errorf("%s: does not EXPOSE %s, the port of the default --addr %q", dockerfilePath, defPort, addr)
	}

	// compose.yaml
	services := composeServices(t)
	names := make([]string, 0, len(services))
	for name := range services {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		svc := services[name]
		if !isBacklot(str(svc, "image")) {
			continue
		}
		s := serveSettings{where: composePath + " service " + name, args: command(svc["command"]), env: composeEnv(svc["environment"])}
		port, problems := s.check(h)
		fail(problems)
		if port == "" {
			continue
		}
		for _, u := range regexp.MustCompile(`https?://[^/\s"]+:(\d+)/`).FindAllStringSubmatch(fmt.Sprint(mapAt(svc, "healthcheck")["test"]), -1) {
			if u[1] != port {
				t.Errorf("%s: the healthcheck calls port %s; the process listens on %s", s.where, u[1], port)
			}
		}
		for _, p := range list(svc["ports"]) {
			if target := publishedTarget(p); target != port {
				t.Errorf("%s: publishes container port %s; the process listens on %s", s.where, target, port)
			}
		}
	}

	// Deployments, with the variables of the ConfigMaps and Secrets they load.
	objs := kubeObjects(t)
	for _, o := range objs {
		switch o.kind() {
		case "ConfigMap", "Secret":
			env := map[string]string{}
			for _, field := range []string{"data", "stringData"} {
				for k, v := range mapAt(o.m, field) {
					env[k] = fmt.Sprint(v)
				}
			}
			for k := range env {
				if strings.HasPrefix(k, "BACKLOT_") && !h.envs[k] {
					t.Errorf("%s: %s is not named in `backlot serve --help`", o, k)
				}
			}
		}
	}
	for _, d := range byKind(objs, "Deployment") {
		for _, c := range list(mapAt(d.m, "spec", "template", "spec")["containers"]) {
			c, _ := c.(map[string]any)
			if !isBacklot(str(c, "image")) {
				continue
			}
			s := serveSettings{
				where:     d.String() + " container " + str(c, "name"),
				args:      command(c["args"]),
				env:       containerEnv(c),
				inherited: envFromEnv(objs, d.namespace(), c), // checked once, above
			}
			port, problems := s.check(h)
			fail(problems)
			if port == "" {
				continue
			}
			if !containerPorts(d)[port] {
				t.Errorf("%s: no containerPort %s, the port the process listens on", s.where, port)
			}
			for _, probe := range []string{"livenessProbe", "readinessProbe"} {
				if p := mapAt(c, probe, "httpGet")["port"]; p != nil && !containerPorts(d)[fmt.Sprint(p)] {
					t.Errorf("%s: %s on port %v, which the container does not declare", s.where, probe, p)
				}
			}
			for _, p := range list(c["ports"]) {
				p, _ := p.(map[string]any)
				if str(p, "name") == "http" && fmt.Sprint(p["containerPort"]) != port {
					t.Errorf("%s: containerPort http is %v; the process listens on %s", s.where, p["containerPort"], port)
				}
			}
		}
	}

	// The README documents every variable serve reads.
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	for e := range h.envs {
		if !bytes.Contains(readme, []byte("`"+e+"`")) {
			t.Errorf("%s: the configuration table does not name `%s`, which `backlot serve --help` lists", readmePath, e)
		}
	}
}

// containerEnv is the variables of a container's own env list.
func containerEnv(c map[string]any) map[string]string {
	env := map[string]string{}
	for _, e := range list(c["env"]) {
		e, _ := e.(map[string]any)
		env[str(e, "name")] = str(e, "value")
	}
	return env
}

// envFromEnv is the variables a container loads from ConfigMaps and Secrets (envFrom).
func envFromEnv(objs []object, ns string, c map[string]any) map[string]string {
	env := map[string]string{}
	for _, ef := range list(c["envFrom"]) {
		ef, _ := ef.(map[string]any)
		prefix := str(ef, "prefix")
		for ref, kind := range map[string]string{"configMapRef": "ConfigMap", "secretRef": "Secret"} {
			name := str(ef, ref, "name")
			if name == "" {
				continue
			}
			if o := find(objs, kind, ns, name); o != nil {
				for _, field := range []string{"data", "stringData"} {
					for k, v := range mapAt(o.m, field) {
						env[prefix+k] = fmt.Sprint(v)
					}
				}
			}
		}
	}
	return env
}

// composeEnv reads a compose environment, a mapping or a list of KEY=VALUE.
func composeEnv(v any) map[string]string {
	env := map[string]string{}
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			env[k] = fmt.Sprint(val)
		}
	case []any:
		for _, item := range t {
			k, val, _ := strings.Cut(fmt.Sprint(item), "=")
			env[k] = val
		}
	}
	return env
}

// command reads a compose command or container args: a list, or a string split on blanks.
func command(v any) []string {
	if s, ok := v.(string); ok {
		return strings.Fields(s)
	}
	var args []string
	for _, a := range list(v) {
		args = append(args, fmt.Sprint(a))
	}
	return args
}

// publishedTarget is the container port of a compose ports entry:
// "7007", "7007:7007", "127.0.0.1:7007:7007/tcp" or {target: 7007}.
func publishedTarget(p any) string {
	if m, ok := p.(map[string]any); ok {
		return fmt.Sprint(m["target"])
	}
	s := fmt.Sprint(p)
	s, _, _ = strings.Cut(s, "/")
	if i := strings.LastIndex(s, ":"); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// containerPorts is the set of a Deployment's container ports, by number and by name.
func containerPorts(d object) map[string]bool {
	ports := map[string]bool{}
	for _, c := range list(mapAt(d.m, "spec", "template", "spec")["containers"]) {
		c, _ := c.(map[string]any)
		for _, p := range list(c["ports"]) {
			p, _ := p.(map[string]any)
			ports[fmt.Sprint(p["containerPort"])] = true
			if n := str(p, "name"); n != "" {
				ports[n] = true
			}
		}
	}
	return ports
}

// byKind returns the objects of one kind.
func byKind(objs []object, kind string) []object {
	var out []object
	for _, o := range objs {
		if o.kind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// find returns the object of that kind, namespace and name, or nil.
func find(objs []object, kind, ns, name string) *object {
	for i, o := range objs {
		if o.kind() == kind && o.namespace() == ns && o.name() == name {
			return &objs[i]
		}
	}
	return nil
}

// matches tells whether every label of sel is in labels.
func matches(sel, labels map[string]any) bool {
	for k, v := range sel {
		if lv, ok := labels[k]; !ok || fmt.Sprint(lv) != fmt.Sprint(v) {
			return false
		}
	}
	return true
}

// mapAt follows keys through nested mappings; it returns nil where one is missing.
func mapAt(v any, keys ...string) map[string]any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	m, _ := v.(map[string]any)
	return m
}

// str is the string at the end of keys, or "".
func str(v map[string]any, keys ...string) string {
	last := keys[len(keys)-1]
	s, _ := mapAt(v, keys[:len(keys)-1]...)[last].(string)
	return s
}

// list is v as a list, or nil.
func list(v any) []any {
	l, _ := v.([]any)
	return l
}
