package deploy_test

import (
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"backlot.dev/backlot/internal/auth"
)

// oidcKeys are the OIDC settings compose and the api Deployment give the api.
var oidcKeys = []string{"BACKLOT_OIDC_ISSUER", "BACKLOT_OIDC_CLIENT_ID", "BACKLOT_OIDC_CLI_CLIENT_ID", "BACKLOT_OIDC_RESOLVER", "BACKLOT_PUBLIC_URL"}

// TestOIDCSettings: compose and the api Deployment wire the OIDC issuer,
// clients, resolver and public URL, and the client's secret from a secret
// gen-secrets.sh makes (empty unless BACKLOT_OIDC_CLIENT_SECRET is given).
func TestOIDCSettings(t *testing.T) {
	checkResolver := func(where, v string) {
		if _, err := auth.ParseResolver(v); err != nil {
			t.Errorf("%s: %v", where, err)
		}
	}

	// compose: the api's environment names every setting; the secret file,
	// which its command names, is one of its compose secrets, made from
	// secrets/oidc-client-secret.
	services := composeServices(t)
	api := services["api"]
	env := composeEnv(api["environment"])
	for _, k := range oidcKeys {
		if _, ok := env[k]; !ok {
			t.Errorf("%s service api: no %s", composePath, k)
		}
	}
	if !strings.HasPrefix(env["BACKLOT_OIDC_ISSUER"], "${BACKLOT_OIDC_ISSUER") {
		t.Errorf("%s service api: BACKLOT_OIDC_ISSUER %q is not taken from the install's environment", composePath, env["BACKLOT_OIDC_ISSUER"])
	}
	resolver := strings.TrimSuffix(strings.TrimPrefix(env["BACKLOT_OIDC_RESOLVER"], "${BACKLOT_OIDC_RESOLVER:-"), "}")
	checkResolver(composePath+" service api", resolver)
	file := flagValue(list(api["command"]), "--oidc-client-secret-file")
	secret := strings.TrimPrefix(file, "/run/secrets/")
	docs, _ := readYAML(composePath)
	if file == secret || !slices.ContainsFunc(list(api["secrets"]), func(s any) bool { return s == secret }) {
		t.Errorf("%s service api: --oidc-client-secret-file %q is not one of its secrets %v", composePath, file, api["secrets"])
	} else if f := str(mapAt(docs[0], "secrets", secret), "file"); f != "secrets/oidc-client-secret" {
		t.Errorf("%s: secret %s is file %q, want secrets/oidc-client-secret (gen-secrets.sh)", composePath, secret, f)
	}

	// Kubernetes: the api loads the ConfigMap backlot-oidc, which holds
	// every setting, and its secret file is a key of a mounted Secret.
	objs := kubeObjects(t)
	d := find(objs, "Deployment", "backlot", "backlot-api")
	if d == nil {
		t.Fatal("no Deployment backlot-api")
	}
	spec := mapAt(d.m, "spec", "template", "spec")
	c, _ := list(spec["containers"])[0].(map[string]any)
	var cm *object
	for _, ef := range list(c["envFrom"]) {
		ef, _ := ef.(map[string]any)
		if name := str(ef, "configMapRef", "name"); name == "backlot-oidc" {
			cm = find(objs, "ConfigMap", "backlot", name)
		}
	}
	if cm == nil {
		t.Fatalf("%s: loads no ConfigMap backlot-oidc", d)
	}
	data := mapAt(cm.m, "data")
	for _, k := range oidcKeys {
		if _, ok := data[k]; !ok {
			t.Errorf("%s: no %s", cm, k)
		}
	}
	checkResolver(cm.String(), str(cm.m, "data", "BACKLOT_OIDC_RESOLVER"))
	file = containerEnv(c)["BACKLOT_OIDC_CLIENT_SECRET_FILE"]
	wired := false
	for _, m := range list(c["volumeMounts"]) {
		m, _ := m.(map[string]any)
		if str(m, "mountPath") != path.Dir(file) {
			continue
		}
		for _, v := range list(spec["volumes"]) {
			v, _ := v.(map[string]any)
			if str(v, "name") == str(m, "name") {
				s := find(objs, "Secret", "backlot", str(v, "secret", "secretName"))
				wired = s != nil && mapAt(s.m, "stringData")[path.Base(file)] != nil
			}
		}
	}
	if !wired {
		t.Errorf("%s: BACKLOT_OIDC_CLIENT_SECRET_FILE %q is not a key of a mounted Secret", d, file)
	}

	// gen-secrets.sh: an empty secret by default, the given one otherwise,
	// written also beside the secrets of an older install.
	dirs, _ := genSecrets(t)
	for _, dir := range dirs {
		if b, err := os.ReadFile(filepath.Join(dir, "oidc-client-secret")); err != nil || len(b) != 0 {
			t.Errorf("%s: oidc-client-secret %q %v, want an empty file", dir, b, err)
		}
	}
	older := t.TempDir()
	os.WriteFile(filepath.Join(older, "backlot.env"), []byte("BACKLOT_SECRETS_KEY=x\n"), 0o600)
	os.WriteFile(filepath.Join(older, "tokens"), []byte("# none\n"), 0o600)
	cmd := exec.Command("sh", genSecretsPath)
	cmd.Env = append(os.Environ(), "GEN_SECRETS_DIRS="+older, "BACKLOT_OIDC_CLIENT_SECRET=s3cret-of-the-client")
	if out, err := cmd.Output(); err != nil || len(out) != 0 {
		t.Errorf("gen-secrets.sh over an older install: %v, printed %q", err, out)
	}
	fi, err := os.Stat(filepath.Join(older, "oidc-client-secret"))
	b, _ := os.ReadFile(filepath.Join(older, "oidc-client-secret"))
	if err != nil || string(b) != "s3cret-of-the-client" || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("oidc-client-secret %q (%v), want the given secret, private", b, err)
	}
}
