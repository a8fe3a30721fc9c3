package auth

import "testing"

func TestLocalHost(t *testing.T) {
	t.Parallel()
	names := []string{"Backlot.Test"}
	for host, want := range map[string]bool{
		"localhost":          true,
		"localhost:7007":     true,
		"LOCALHOST.":         true,
		"127.0.0.1:7007":     true,
		"[::1]:7007":         true,
		"[::1]":              true,
		"backlot.test:7007":  true,
		"evil.example":       false,
		"evil.example:7007":  false,
		"127.0.0.1.nip.io":   false,
		"":                   false,
		"localhost.evil.com": false,
	} {
		if got := LocalHost(host, names); got != want {
			t.Errorf("LocalHost(%q, %q) = %v, want %v", host, names, got, want)
		}
	}
}
