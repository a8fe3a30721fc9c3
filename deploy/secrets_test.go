package deploy_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"backlot.dev/backlot/internal/auth"
)

const genSecretsPath = "gen-secrets.sh"

var (
	genOnce  sync.Once
	genDirs  [2]string // compose's, the kustomization's
	genToken string
	genErr   error
)

// genSecrets runs gen-secrets.sh once, into two temporary folders standing for
// deploy/secrets and deploy/kubernetes/secrets, and returns them with the
// token it printed.
func genSecrets(t *testing.T) ([2]string, string) {
	t.Helper()
	genOnce.Do(func() {
		root, err := os.MkdirTemp("", "backlot-gen-secrets-")
		if err != nil {
			genErr = err
			return
		}
		genDirs = [2]string{filepath.Join(root, "secrets"), filepath.Join(root, "kubernetes", "secrets")}
		cmd := exec.Command("sh", genSecretsPath, "service:ci", "group:default/platform")
		cmd.Env = append(os.Environ(), "GEN_SECRETS_DIRS="+genDirs[0]+" "+genDirs[1])
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			genErr = fmt.Errorf("%s: %v\n%s", genSecretsPath, err, stderr.String())
			return
		}
		genToken = strings.TrimSpace(string(out))
	})
	if genErr != nil {
		t.Fatal(genErr)
	}
	return genDirs, genToken
}

// readEnvFile reads KEY=VALUE lines.
func readEnvFile(t *testing.T, file string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && !strings.HasPrefix(k, "#") {
			env[k] = v
		}
	}
	return env
}

// generatedSecrets is the Secrets of the kustomization's secretGenerator,
// made from the files gen-secrets.sh writes.
func generatedSecrets(t *testing.T) []object {
	t.Helper()
	docs, err := readYAML(kustomizationPath)
	if err != nil {
		t.Fatal(err)
	}
	dirs, _ := genSecrets(t)
	ns := str(docs[0], "namespace")
	var out []object
	for _, g := range list(docs[0]["secretGenerator"]) {
		g, _ := g.(map[string]any)
		data := map[string]any{}
		local := func(rel string) string {
			if !strings.HasPrefix(rel, "secrets/") {
				t.Errorf("%s: secretGenerator %s reads %s, not a file gen-secrets.sh writes under secrets/", kustomizationPath, str(g, "name"), rel)
			}
			return filepath.Join(dirs[1], strings.TrimPrefix(rel, "secrets/"))
		}
		for _, e := range list(g["envs"]) {
			for k, v := range readEnvFile(t, local(fmt.Sprint(e))) {
				data[k] = v
			}
		}
		for _, f := range list(g["files"]) {
			key, rel, ok := strings.Cut(fmt.Sprint(f), "=")
			if !ok {
				key, rel = path.Base(rel), key
			}
			b, err := os.ReadFile(local(rel))
			if err != nil {
				t.Error(err)
			}
			data[key] = string(b)
		}
		out = append(out, object{file: kustomizationPath, m: map[string]any{
			"apiVersion": "v1", "kind": "Secret",
			"metadata":   map[string]any{"name": str(g, "name"), "namespace": ns},
			"stringData": data,
		}})
	}
	if len(out) == 0 {
		t.Errorf("%s: no secretGenerator: the install's secrets are not wired", kustomizationPath)
	}
	return out
}

// TestInstallSecrets: gen-secrets.sh makes a secrets key of 32 random bytes, a
// webhook secret and a hashed token line whose token it prints once; it keeps
// what exists; no secret value is in the repository's manifests; compose and
// the api Deployment wire the token file, and both the api and the worker the
// keys.
func TestInstallSecrets(t *testing.T) {
	dirs, token := genSecrets(t)
	for _, d := range dirs {
		env := readEnvFile(t, filepath.Join(d, "backlot.env"))
		if key, err := base64.StdEncoding.DecodeString(env["BACKLOT_SECRETS_KEY"]); err != nil || len(key) != 32 {
			t.Errorf("%s: BACKLOT_SECRETS_KEY %q is not base64 of 32 bytes (%v)", d, env["BACKLOT_SECRETS_KEY"], err)
		}
		if len(env["BACKLOT_WEBHOOK_SECRET"]) < 32 {
			t.Errorf("%s: BACKLOT_WEBHOOK_SECRET %q is short", d, env["BACKLOT_WEBHOOK_SECRET"])
		}
		tokens := filepath.Join(d, "tokens")
		data, _ := os.ReadFile(tokens)
		if bytes.Contains(data, []byte(token)) {
			t.Errorf("%s holds the token in clear", tokens)
		}
		tok, err := auth.LoadTokens(tokens)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		if p, err := tok.Identify(r); err != nil || p.Ref != "service:ci" || !slices.Equal(p.Groups, []string{"group:default/platform"}) || tok.ClearTokens() != 0 {
			t.Errorf("%s: the printed token is %+v %v", tokens, p, err)
		}
		if fi, err := os.Stat(tokens); err != nil || fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: mode %v, want private", tokens, fi.Mode())
		}
	}
	before, _ := os.ReadFile(filepath.Join(dirs[0], "backlot.env"))
	cmd := exec.Command("sh", genSecretsPath)
	cmd.Env = append(os.Environ(), "GEN_SECRETS_DIRS="+dirs[0])
	if out, err := cmd.Output(); err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("a second run: %v, printed %q", err, out)
	}
	if after, _ := os.ReadFile(filepath.Join(dirs[0], "backlot.env")); !bytes.Equal(before, after) {
		t.Error("a second run replaced the secrets key")
	}
	script, _ := os.ReadFile(genSecretsPath)
	for _, d := range []string{`$here/secrets`, `$here/kubernetes/secrets`} {
		if !bytes.Contains(script, []byte(d)) {
			t.Errorf("%s does not write %s by default", genSecretsPath, d)
		}
	}
	ignore, _ := os.ReadFile(".gitignore")
	for _, d := range []string{"/secrets/", "/kubernetes/secrets/"} {
		if !bytes.Contains(ignore, []byte(d)) {
			t.Errorf("deploy/.gitignore does not keep %s out of git", d)
		}
	}

	// No secret value in the repository.
	for _, o := range kubeObjects(t) {
		if o.kind() != "Secret" || o.file == kustomizationPath {
			continue
		}
		for _, k := range []string{"BACKLOT_SECRETS_KEY", "BACKLOT_WEBHOOK_SECRET"} {
			if _, ok := mapAt(o.m, "stringData")[k]; ok {
				t.Errorf("%s: holds %s: it must be generated at install", o, k)
			}
			if _, ok := mapAt(o.m, "data")[k]; ok {
				t.Errorf("%s: holds %s: it must be generated at install", o, k)
			}
		}
	}

	// compose: the api reads the token file from a compose secret; the api
	// and worker load the generated keys.
	services := composeServices(t)
	docs, _ := readYAML(composePath)
	for _, name := range []string{"api", "worker"} {
		svc := services[name]
		if !slices.ContainsFunc(list(svc["env_file"]), func(f any) bool { return fmt.Sprint(f) == "secrets/backlot.env" }) {
			t.Errorf("%s service %s: env_file does not load secrets/backlot.env", composePath, name)
		}
		for _, k := range []string{"BACKLOT_SECRETS_KEY", "BACKLOT_WEBHOOK_SECRET"} {
			if _, ok := composeEnv(svc["environment"])[k]; ok {
				t.Errorf("%s service %s: %s is written in the file", composePath, name, k)
			}
		}
	}
	api := services["api"]
	tokensPath := flagValue(list(api["command"]), "--auth-tokens")
	secret := strings.TrimPrefix(tokensPath, "/run/secrets/")
	if tokensPath == secret || !slices.ContainsFunc(list(api["secrets"]), func(s any) bool { return fmt.Sprint(s) == secret }) {
		t.Errorf("%s service api: --auth-tokens %q is not one of its secrets %v", composePath, tokensPath, api["secrets"])
	} else if f := str(mapAt(docs[0], "secrets", secret), "file"); f != "secrets/tokens" {
		t.Errorf("%s: secret %s is file %q, want secrets/tokens (gen-secrets.sh)", composePath, secret, f)
	}

	// Kubernetes: the api's BACKLOT_AUTH_TOKENS is a key of the Secret
	// backlot-tokens mounted where it points.
	objs := kubeObjects(t)
	d := find(objs, "Deployment", "backlot", "backlot-api")
	if d == nil {
		t.Fatal("no Deployment backlot-api")
	}
	spec := mapAt(d.m, "spec", "template", "spec")
	c, _ := list(spec["containers"])[0].(map[string]any)
	file := containerEnv(c)["BACKLOT_AUTH_TOKENS"]
	wired := false
	for _, m := range list(c["volumeMounts"]) {
		m, _ := m.(map[string]any)
		if dir := str(m, "mountPath"); dir == "" || path.Dir(file) != dir {
			continue
		}
		for _, v := range list(spec["volumes"]) {
			v, _ := v.(map[string]any)
			if str(v, "name") != str(m, "name") {
				continue
			}
			s := find(objs, "Secret", "backlot", str(v, "secret", "secretName"))
			wired = s != nil && mapAt(s.m, "stringData")[path.Base(file)] != nil
		}
	}
	if !wired {
		t.Errorf("%s: BACKLOT_AUTH_TOKENS %q is not a key of a mounted token Secret", d, file)
	}
}

// selects reports whether a NetworkPolicy's podSelector selects pods with
// labels: matchLabels and matchExpressions (In, NotIn, Exists).
func selects(sel map[string]any, labels map[string]any) bool {
	if !matches(mapAt(sel, "matchLabels"), labels) {
		return false
	}
	for _, e := range list(sel["matchExpressions"]) {
		e, _ := e.(map[string]any)
		v, has := labels[str(e, "key")]
		var values []string
		for _, x := range list(e["values"]) {
			values = append(values, fmt.Sprint(x))
		}
		switch str(e, "operator") {
		case "In":
			if !has || !slices.Contains(values, fmt.Sprint(v)) {
				return false
			}
		case "NotIn":
			if has && slices.Contains(values, fmt.Sprint(v)) {
				return false
			}
		case "Exists":
			if !has {
				return false
			}
		}
	}
	return true
}

// TestNetworkPolicies: a default deny covers every pod; every Deployment's
// pods are selected for ingress on their http port (the api's open to
// clients), and their egress reaches only DNS, Kafka, PostgreSQL, Temporal and
// the git hosts on public addresses.
func TestNetworkPolicies(t *testing.T) {
	objs := kubeObjects(t)
	policies := byKind(objs, "NetworkPolicy")
	deny := false
	allowedPorts := map[string]bool{"53": true, "9092": true, "5432": true, "7233": true, "443": true, "22": true}
	for _, p := range policies {
		spec := mapAt(p.m, "spec")
		types := list(spec["policyTypes"])
		if len(mapAt(spec, "podSelector")) == 0 && len(types) == 2 && spec["ingress"] == nil && spec["egress"] == nil {
			deny = true
		}
		for _, rule := range list(spec["egress"]) {
			rule, _ := rule.(map[string]any)
			if len(list(rule["ports"])) == 0 {
				t.Errorf("%s: an egress rule allows every port", p)
			}
			for _, port := range list(rule["ports"]) {
				port, _ := port.(map[string]any)
				if !allowedPorts[fmt.Sprint(port["port"])] {
					t.Errorf("%s: egress to port %v, not DNS, Kafka, PostgreSQL, Temporal or a git host", p, port["port"])
				}
			}
			for _, to := range list(rule["to"]) {
				to, _ := to.(map[string]any)
				if block := mapAt(to, "ipBlock"); len(block) > 0 {
					var except []string
					for _, e := range list(block["except"]) {
						except = append(except, fmt.Sprint(e))
					}
					for _, private := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"} {
						if !slices.Contains(except, private) {
							t.Errorf("%s: ipBlock %v does not except %s", p, block["cidr"], private)
						}
					}
				}
			}
		}
	}
	if !deny {
		t.Error("no default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)")
	}
	for _, d := range byKind(objs, "Deployment") {
		labels := mapAt(d.m, "spec", "template", "metadata", "labels")
		var ingress, egress bool
		for _, p := range policies {
			spec := mapAt(p.m, "spec")
			if p.namespace() != d.namespace() || len(mapAt(spec, "podSelector")) == 0 || !selects(mapAt(spec, "podSelector"), labels) {
				continue
			}
			for _, rule := range list(spec["ingress"]) {
				rule, _ := rule.(map[string]any)
				for _, port := range list(rule["ports"]) {
					port, _ := port.(map[string]any)
					if containerPorts(d)[fmt.Sprint(port["port"])] {
						ingress = true
					}
				}
			}
			egress = egress || len(list(spec["egress"])) > 0
		}
		if !ingress || !egress {
			t.Errorf("%s: pods %v: ingress to their port %v, egress %v, want both allowed by a NetworkPolicy", d, labels, ingress, egress)
		}
	}
}

// flagValue is the value that follows name in a command's arguments ("" when
// the flag is absent).
func flagValue(args []any, name string) string {
	for i, a := range args {
		if fmt.Sprint(a) == name && i+1 < len(args) {
			return fmt.Sprint(args[i+1])
		}
		if v, ok := strings.CutPrefix(fmt.Sprint(a), name+"="); ok {
			return v
		}
	}
	return ""
}
