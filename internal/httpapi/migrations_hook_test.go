package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"testing"

	"backlot.dev/backlot/internal/migratesvc"
)

func TestChangeHooksNameTheChangeRequestAndCheckTheSecret(t *testing.T) {
	sign := func(body, secret string) string {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(body))
		return "sha256=" + hex.EncodeToString(mac.Sum(nil))
	}
	pr := `{"action":"closed","number":7,"pull_request":{"number":7,"merged":true},"repository":{"full_name":"acme/checkout"}}`
	suite := `{"action":"completed","check_suite":{"pull_requests":[{"number":9}]},"repository":{"full_name":"acme/checkout"}}`
	push := `{"ref":"refs/heads/main","repository":{"full_name":"acme/checkout"}}`
	mr := `{"object_kind":"merge_request","project":{"path_with_namespace":"group/sub/api"},"object_attributes":{"iid":4}}`
	pipe := `{"object_kind":"pipeline","project":{"path_with_namespace":"group/sub/api"},"object_attributes":{"iid":77},"merge_request":{"iid":5}}`
	cases := []struct {
		name, host, body string
		header           http.Header
		secret           string
		want             migratesvc.ChangeHook
		ok, fails        bool
	}{
		{"a merged pull request", "github", pr, http.Header{"X-Hub-Signature-256": {sign(pr, "s")}}, "s", migratesvc.ChangeHook{Repo: "acme/checkout", Number: 7}, true, false},
		{"a form-encoded delivery", "github", "payload=" + url.QueryEscape(pr), http.Header{"Content-Type": {"application/x-www-form-urlencoded"},
			"X-Hub-Signature-256": {sign("payload="+url.QueryEscape(pr), "s")}}, "s", migratesvc.ChangeHook{Repo: "acme/checkout", Number: 7}, true, false},
		{"a check suite of a pull request", "github", suite, http.Header{}, "", migratesvc.ChangeHook{Repo: "acme/checkout", Number: 9}, true, false},
		{"a push names no pull request", "github", push, http.Header{}, "", migratesvc.ChangeHook{Repo: "acme/checkout", Number: 0}, false, false},
		{"a wrong signature", "github", pr, http.Header{"X-Hub-Signature-256": {sign(pr, "other")}}, "s", migratesvc.ChangeHook{}, false, true},
		{"a merge request", "gitlab", mr, http.Header{"X-Gitlab-Token": {"s"}, "X-Gitlab-Event": {"Merge Request Hook"}}, "s", migratesvc.ChangeHook{Repo: "group/sub/api", Number: 4}, true, false},
		{"a pipeline of a merge request", "gitlab", pipe, http.Header{"X-Gitlab-Event": {"Pipeline Hook"}}, "", migratesvc.ChangeHook{Repo: "group/sub/api", Number: 5}, true, false},
		{"a wrong token", "gitlab", mr, http.Header{"X-Gitlab-Token": {"x"}}, "s", migratesvc.ChangeHook{}, false, true},
		{"another host", "bitbucket", pr, http.Header{}, "", migratesvc.ChangeHook{}, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok, err := parseChangeHook(c.host, c.header, []byte(c.body), c.secret)
			if (err != nil) != c.fails || ok != c.ok || (!c.fails && got != c.want) {
				t.Fatalf("got %+v ok %v err %v; want %+v ok %v fails %v", got, ok, err, c.want, c.ok, c.fails)
			}
		})
	}
}
