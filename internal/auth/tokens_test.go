package auth

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTokenFileAndAuthenticate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens")
	os.WriteFile(path, []byte("# who may write\n0123456789abcdef-ada user:ada\n\nfedcba9876543210-ci service:ci-pipeline\n"), 0o600)
	tok, err := LoadTokens(path)
	if err != nil {
		t.Fatal(err)
	}
	req := func(h string) *http.Request {
		r, _ := http.NewRequest("POST", "/", nil)
		if h != "" {
			r.Header.Set("Authorization", h)
		}
		return r
	}
	if p, err := tok.Authenticate(req("Bearer 0123456789abcdef-ada")); err != nil || p != "user:default/ada" {
		t.Fatalf("ada: %q %v", p, err)
	}
	if p, err := tok.Authenticate(req("bearer fedcba9876543210-ci")); err != nil || p != "service:ci-pipeline" {
		t.Fatalf("ci: %q %v", p, err)
	}
	for _, h := range []string{"", "Bearer", "Basic 0123456789abcdef-ada", "Bearer wrong-token-0000000"} {
		if _, err := tok.Authenticate(req(h)); err == nil {
			t.Errorf("%q authenticated", h)
		}
	}
	for name, content := range map[string]string{
		"short":     "short user:ada\n",
		"principal": "0123456789abcdef-x component:default/x\n",
		"fields":    "0123456789abcdef-x\n",
		"twice":     "0123456789abcdef-x user:a\n0123456789abcdef-x user:b\n",
		"empty":     "# nothing\n",
	} {
		p := filepath.Join(t.TempDir(), name)
		os.WriteFile(p, []byte(content), 0o600)
		if _, err := LoadTokens(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want an error naming the file", name, err)
		}
	}
}
