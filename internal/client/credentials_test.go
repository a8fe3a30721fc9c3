package client

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCredentialsPerServer(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:7007":                   "http://127.0.0.1:7007",
		"http://127.0.0.1:7007/":                  "http://127.0.0.1:7007",
		"HTTPS://Backlot.Example.com/api/catalog": "https://backlot.example.com",
	} {
		if got := ServerKey(in); got != want {
			t.Errorf("ServerKey(%q) = %q, want %q", in, got, want)
		}
	}
	path := filepath.Join(t.TempDir(), "cfg", "backlot", "credentials.json")
	a := Credential{Issuer: "https://id.example.com", ClientID: "cli", IDToken: "a.b.c", Expiry: time.Unix(1e9, 0).UTC()}
	if err := SaveCredential(path, "https://a.example.com/", a); err != nil {
		t.Fatal(err)
	}
	if err := SaveCredential(path, "https://b.example.com", Credential{IDToken: "x.y.z"}); err != nil {
		t.Fatal(err)
	}
	got, ok, err := LoadCredential(path, "HTTPS://A.example.com")
	if err != nil || !ok || got.IDToken != a.IDToken || !got.Expiry.Equal(a.Expiry) {
		t.Errorf("a: %+v %v %v", got, ok, err)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want %o", p, fi.Mode(), err, want)
		}
	}
	if removed, err := RemoveCredential(path, "https://a.example.com"); !removed || err != nil {
		t.Errorf("remove a: %v %v", removed, err)
	}
	if _, ok, _ := LoadCredential(path, "https://a.example.com"); ok {
		t.Error("a is still kept")
	}
	if _, ok, _ := LoadCredential(path, "https://b.example.com"); !ok {
		t.Error("removing a removed b")
	}
	os.WriteFile(path, []byte("{not json"), 0o600)
	if _, _, err := LoadCredential(path, "https://b.example.com"); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("a broken file: %v, want an error naming it", err)
	}
	if _, err := jwtExpiry("not-a-jwt"); err == nil {
		t.Error("jwtExpiry of a non-JWT")
	}
}
