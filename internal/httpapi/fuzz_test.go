package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/projections/catalogstore/catalogsql"
)

var postgresPlaceholder = regexp.MustCompile(`\$[0-9]+`)

// FuzzParseFilter feeds arbitrary filter parameters to parseFilter: it never
// panics, a refusal is an input error, and an accepted filter renders SQL, in
// both dialects and every mode, whose placeholders match its arguments and
// which holds no quoted text of the request.
func FuzzParseFilter(f *testing.F) {
	f.Add("kind=component,spec.type=service", "metadata.name=a")
	f.Add("relations.ownedBy=group:default/team-a", "")
	f.Add("metadata.annotations.backstage.io/orphan", "kind=API,kind=Component")
	f.Add("a==b", "")
	f.Add(" , ,kind=", "metadata.uid=ABC,metadata.uid=def")
	f.Add("kind=x' OR 1=1 --,spec.owner=$1", "?,relations.x=?")
	f.Fuzz(func(t *testing.T, p1, p2 string) {
		filter, err := parseFilter([]string{p1, p2})
		if err != nil {
			if fault.Of(err) != fault.Invalid {
				t.Fatalf("refusal %v is not an input error", err)
			}
			return
		}
		total := 0
		for _, conj := range filter {
			if len(conj) == 0 {
				t.Fatalf("filter %q holds an empty conjunction", filter)
			}
			for _, c := range conj {
				if strings.TrimSpace(c.Key) == "" || c.Key != strings.TrimSpace(c.Key) {
					t.Fatalf("condition key %q is empty or untrimmed", c.Key)
				}
				total += max(1, len(c.Values))
			}
		}
		if total > maxFilterValues {
			t.Fatalf("filter of %d statements accepted, limit %d", total, maxFilterValues)
		}
		for _, pg := range []bool{false, true} {
			for _, mode := range []catalogsql.Mode{catalogsql.Set, catalogsql.PerRow, catalogsql.PerRowNoColumnIndex} {
				a := catalogsql.NewArgs(catalogsql.Dialect{Postgres: pg})
				sql := catalogsql.Filter(filter, mode, a)
				n := len(a.Values())
				if strings.Contains(sql, "'") {
					t.Fatalf("SQL %q holds quoted text", sql)
				}
				if !pg {
					if got := strings.Count(sql, "?"); got != n {
						t.Fatalf("SQLite SQL %q has %d placeholders for %d arguments", sql, got, n)
					}
					continue
				}
				seen := map[int]bool{}
				for _, ph := range postgresPlaceholder.FindAllString(sql, -1) {
					i, err := strconv.Atoi(ph[1:])
					if err != nil || i < 1 || i > n {
						t.Fatalf("PostgreSQL SQL %q names %s with %d arguments", sql, ph, n)
					}
					seen[i] = true
				}
				if len(seen) != n || strings.Count(sql, "$") != n {
					t.Fatalf("PostgreSQL SQL %q uses %d placeholders for %d arguments", sql, len(seen), n)
				}
			}
		}
	})
}

// FuzzParseChangeHook feeds arbitrary webhook deliveries to parseChangeHook:
// it never panics, a signature or token other than the secret's is always
// refused as unauthenticated, and the right one is never refused so.
func FuzzParseChangeHook(f *testing.F) {
	pr := `{"action":"closed","number":7,"pull_request":{"number":7,"merged":true},"repository":{"full_name":"acme/checkout"}}`
	mr := `{"object_kind":"merge_request","project":{"path_with_namespace":"group/sub/api"},"object_attributes":{"iid":4}}`
	f.Add(true, []byte(pr), "s3cret", "", "application/json", "", false)
	f.Add(true, []byte("payload="+pr), "s3cret", "", "application/x-www-form-urlencoded", "", false)
	f.Add(true, []byte(pr), "s3cret", "sha256=00", "application/json", "", true)
	f.Add(false, []byte(mr), "tok", "tok", "", "Merge Request Hook", false)
	f.Add(false, []byte(`{"merge_request":{"iid":5}}`), "tok", "", "", "Pipeline Hook", true)
	f.Add(true, []byte("%zz"), "", "", "application/x-www-form-urlencoded", "", true)
	f.Fuzz(func(t *testing.T, github bool, body []byte, secret, given, contentType, event string, useGiven bool) {
		host, header := "gitlab", "X-Gitlab-Token"
		right := secret
		if github {
			host, header = "github", "X-Hub-Signature-256"
			mac := hmac.New(sha256.New, []byte(secret))
			mac.Write(body)
			right = "sha256=" + hex.EncodeToString(mac.Sum(nil))
		}
		sent := right
		if useGiven {
			sent = given
		}
		h := http.Header{}
		h.Set(header, sent)
		h.Set("Content-Type", contentType)
		h.Set("X-Gitlab-Event", event)
		hook, ok, err := parseChangeHook(host, h, body, secret)
		// The header as the server reads it: Set keeps the value as it is.
		badSecret := secret != "" && h.Get(header) != right
		switch {
		case badSecret && (err == nil || fault.Of(err) != fault.Unauthenticated):
			t.Fatalf("%s delivery with %s %q (want %q) was not refused: %v", host, header, sent, right, err)
		case !badSecret && err != nil && fault.Of(err) == fault.Unauthenticated:
			t.Fatalf("%s delivery with the right %s was refused: %v", host, header, err)
		case err != nil && fault.Of(err) != fault.Unauthenticated && fault.Of(err) != fault.Invalid:
			t.Fatalf("%s delivery refused with an unexpected error: %v", host, err)
		case err != nil && ok:
			t.Fatalf("refused delivery still woke %+v", hook)
		case ok && (hook.Number <= 0 || hook.Repo == ""):
			t.Fatalf("delivery woke %+v, which names no change request", hook)
		}
		if _, _, err := parseChangeHook("bitbucket", h, body, secret); fault.Of(err) != fault.NotFound {
			t.Fatalf("unknown host answered %v", err)
		}
	})
}
