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

func TestHashedTokensWithGroups(t *testing.T) {
	line, err := HashLine("0123456789abcdef-ada", "user:ada", "platform", "group:ops/sre")
	if err != nil {
		t.Fatal(err)
	}
	want := "sha256:"
	if !strings.HasPrefix(line, want) || !strings.HasSuffix(line, " user:default/ada group:default/platform,group:ops/sre") || strings.Contains(line, "0123456789abcdef-ada") {
		t.Fatalf("line %q", line)
	}
	path := filepath.Join(t.TempDir(), "tokens")
	os.WriteFile(path, []byte(line+"\nfedcba9876543210-ci service:ci\n"), 0o600)
	tok, err := LoadTokens(path)
	if err != nil {
		t.Fatal(err)
	}
	if tok.ClearTokens() != 1 {
		t.Errorf("clear tokens %d, want 1", tok.ClearTokens())
	}
	r, _ := http.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer 0123456789abcdef-ada")
	p, err := tok.Identify(r)
	if err != nil || p.Ref != "user:default/ada" || strings.Join(p.Groups, ",") != "group:default/platform,group:ops/sre" {
		t.Fatalf("ada: %+v %v", p, err)
	}
	ctx := WithPrincipal(r.Context(), p)
	if got, ok := FromContext(ctx); !ok || got.Ref != p.Ref || len(got.Groups) != 2 {
		t.Errorf("from context: %+v %v", got, ok)
	}
	if _, ok := FromContext(r.Context()); ok {
		t.Error("a bare context carries a principal")
	}
	r.Header.Set("Authorization", "Bearer "+line[len("sha256:"):len("sha256:")+40])
	if _, err := tok.Identify(r); err == nil {
		t.Error("the hash itself authenticated")
	}
	for name, content := range map[string]string{
		"bad hex":   "sha256:zz user:ada\n",
		"short hex": "sha256:abcd user:ada\n",
		"group":     line[:strings.Index(line, " ")] + " user:ada Not A Group\n",
		"bad group": line[:strings.Index(line, " ")] + " user:ada component:x\n",
		"twice":     line + "\n" + line + "\n",
	} {
		p := filepath.Join(t.TempDir(), "f")
		os.WriteFile(p, []byte(content), 0o600)
		if _, err := LoadTokens(p); err == nil || !strings.Contains(err.Error(), p+":") {
			t.Errorf("%s: %v, want an error naming the file and line", name, err)
		}
	}
}

func TestNewToken(t *testing.T) {
	a, err := NewToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewToken(nil)
	if len(a) != 43 || a == b {
		t.Errorf("tokens %q %q", a, b)
	}
	if _, err := NewToken(strings.NewReader("short")); err == nil {
		t.Error("a short random source made a token")
	}
}

func TestCheckStart(t *testing.T) {
	for _, c := range []struct {
		s  Start
		ok bool
	}{
		{Start{Command: "serve", Addr: ":7007"}, false},
		{Start{Command: "serve", Addr: "127.0.0.1:7007"}, false},
		{Start{Command: "serve", Addr: ":7007", Authenticator: true}, true},
		{Start{Command: "serve", Addr: ":7007", InsecureNoAuth: true}, true},
		{Start{Command: "dev", Addr: "127.0.0.1:7007"}, true},
		{Start{Command: "dev", Addr: "localhost:7007"}, true},
		{Start{Command: "dev", Addr: "[::1]:7007"}, true},
		{Start{Command: "dev", Addr: ":7007"}, false},
		{Start{Command: "dev", Addr: "0.0.0.0:7007"}, false},
		{Start{Command: "dev", Addr: "10.1.2.3:7007"}, false},
		{Start{Command: "dev", Addr: "0.0.0.0:7007", Authenticator: true}, true},
		{Start{Command: "dev", Addr: "0.0.0.0:7007", InsecureNoAuth: true}, true},
	} {
		err := CheckStart(c.s)
		if (err == nil) != c.ok {
			t.Errorf("%+v: %v", c.s, err)
		}
		if err != nil && (!strings.Contains(err.Error(), "--auth-tokens") || !strings.Contains(err.Error(), "--insecure-no-auth")) {
			t.Errorf("%+v: %v does not name the flags", c.s, err)
		}
	}
}
