package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRequestCallsTheAPIWithTheUsersToken(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/missing" {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":{"name":"NotFoundError"}}`))
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"items": []any{}, "path": r.URL.Path})
	}))
	defer srv.Close()
	t.Setenv("BACKLOT_URL", srv.URL)
	t.Setenv("BACKLOT_SECRET_BACKSTAGETOKEN", "user-t0ken")
	out, err := request(input{Method: "get", Path: "/catalog/entities", Params: map[string]any{"filter": "kind=component", "limit": 5}})
	if err != nil {
		t.Fatal(err)
	}
	if out["code"] != "200" || out["body"].(map[string]any)["path"] != "/api/catalog/entities" {
		t.Fatalf("output %v", out)
	}
	if got.Header.Get("Authorization") != "Bearer user-t0ken" || got.URL.RawQuery != "filter=kind%3Dcomponent&limit=5" {
		t.Fatalf("request %v %q", got.Header, got.URL.RawQuery)
	}
	if _, err := request(input{Method: "GET", Path: "/missing"}); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("404: %v", err)
	}
	out, err = request(input{Method: "GET", Path: "/missing", ContinueOnBadResponse: true})
	if err != nil || out["code"] != "404" {
		t.Fatalf("404 with continueOnBadResponse: %v %v", out, err)
	}
	for _, p := range []string{"catalog", "//evil.example/x", "/../admin", "https://evil.example/"} {
		if _, err := request(input{Method: "GET", Path: p}); err == nil || !strings.Contains(err.Error(), "input.path") {
			t.Errorf("path %q: %v", p, err)
		}
	}
}
