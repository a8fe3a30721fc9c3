package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/history"
)

// updateAudit rewrites testdata/audit from the answers of the code under test.
var updateAudit = flag.Bool("update-audit", false, "rewrite testdata/audit")

// auditT0 is the first instant of the audit fixture; the others follow an
// hour apart.
var auditT0 = time.Date(2026, 3, 4, 5, 0, 0, 0, time.UTC)

func auditAt(h int) time.Time { return auditT0.Add(time.Duration(h) * time.Hour) }

// fakeHistory is a history reader over a fixed list of versions.
type fakeHistory struct {
	history.Reader
	versions []history.Version // in key, then number order
}

func (f fakeHistory) Versions(_ context.Context, key string, after, limit int) ([]history.Version, error) {
	var out []history.Version
	for _, v := range f.versions {
		if v.Key == key && v.Number > after && (limit <= 0 || len(out) < limit) {
			out = append(out, v)
		}
	}
	return out, nil
}

func (f fakeHistory) Version(_ context.Context, key string, n int) (history.Version, error) {
	for _, v := range f.versions {
		if v.Key == key && v.Number == n {
			return v, nil
		}
	}
	return history.Version{}, history.ErrNotFound
}

func (f fakeHistory) Current(_ context.Context, at history.Instant, after string, limit int) ([]history.Version, error) {
	t, _ := at.Time()
	var out []history.Version
	for _, v := range f.versions {
		live := !v.ValidFrom.Time.After(t) && (v.ValidTo == nil || v.ValidTo.Time.After(t))
		if live && !v.Removed && v.Key > after && (limit <= 0 || len(out) < limit) {
			out = append(out, v)
		}
	}
	return out, nil
}

// fakeBadges answers one entity's badge changes.
type fakeBadges struct {
	badges.Reader
	changes map[string][]badges.Change
}

func (f fakeBadges) EntityChanges(_ context.Context, key string) ([]badges.Change, error) {
	return f.changes[key], nil
}

// fakeAuditLog answers a fixed list of events and a fixed verification.
type fakeAuditLog struct{ events []event.Envelope }

func (f fakeAuditLog) Events(_ context.Context, q eventQuery) ([]event.Envelope, error) {
	var out []event.Envelope
	for _, ev := range f.events {
		if ev.Position > q.After[ev.Partition] && (q.Subject == "" || ev.Subject == q.Subject) && (len(q.Types) == 0 || slices.Contains(q.Types, ev.Type)) && len(out) < q.Limit {
			out = append(out, ev)
		}
	}
	return out, nil
}

func (f fakeAuditLog) Verify(_ context.Context, cps map[int64]string, progress func(done, total int64)) (event.VerifyReport, error) {
	progress(1, 2)
	progress(2, 2)
	rep := event.VerifyReport{Events: 2, Head: 2, HeadLink: "link-2", Problems: []event.Problem{}}
	if cps[2] != "" && cps[2] != "link-2" {
		rep.Problems = append(rep.Problems, event.Problem{Position: 2, EventID: "e2", Kind: "checkpoint", Detail: "differs"})
	}
	return rep, nil
}

// auditVersion is a version of the fixture: the entity's key, its number, its
// owner (its body's only changing field; "" for a removal) and the hours it
// was valid from and until (-1: still valid).
func auditVersion(key string, n int, owner string, from, to int) history.Version {
	name := key[strings.LastIndex(key, "/")+1:]
	v := history.Version{Key: key, Ref: key, UID: "uid-" + name, Number: n,
		ValidFrom: history.Mark{Pos: history.Pos{Position: int64(from*10 + n)}, Time: auditAt(from)},
		EventID:   "ev-" + name + "-" + string(rune('0'+n)), EventType: "backlot.entity.upserted.v1", Actor: "user:default/ada", Hash: "h-" + owner}
	if to >= 0 {
		v.ValidTo = &history.Mark{Pos: history.Pos{Position: int64(to * 10)}, Time: auditAt(to)}
	}
	if owner == "" {
		v.Removed, v.EventType, v.Hash = true, "backlot.entity.removed.v1", ""
		return v
	}
	v.Body = json.RawMessage(`{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"` + name + `","tags":["go"]},"spec":{"owner":"` + owner + `","type":"service"}}`)
	return v
}

// auditServer serves the audit endpoints over the fixture: a changed, a
// removed, an added and a re-written entity between hours 2 and 4.
func auditServer(t *testing.T) *httptest.Server {
	t.Helper()
	hist := fakeHistory{versions: []history.Version{
		auditVersion("component:default/a", 1, "team-a", 1, 3),
		auditVersion("component:default/a", 2, "team-b", 3, -1),
		auditVersion("component:default/b", 1, "team-a", 1, 3),
		auditVersion("component:default/b", 2, "", 3, -1),
		auditVersion("component:default/c", 1, "team-c", 3, -1),
		auditVersion("component:default/d", 1, "team-d", 1, 3),
		auditVersion("component:default/d", 2, "team-d", 3, -1),
	}}
	change := badges.Change{Mark: history.Mark{Pos: history.Pos{Position: 31}, Time: auditAt(3)}, EventID: "ev-badge", Type: "backlot.badge.changed.v1",
		Data: event.BadgeChanged{Entity: "component:default/a", Policy: "owned", Applies: true}}
	var evs []event.Envelope
	for i, subject := range []string{"component:default/a", "component:default/b", "component:default/a"} {
		evs = append(evs, event.Envelope{ID: "e" + string(rune('1'+i)), Source: "backlot", SpecVersion: "1.0", Type: "backlot.entity.upserted.v1",
			Subject: subject, Time: auditAt(i), DataContentType: "application/json", Actor: "user:default/ada", Position: int64(i + 1),
			Data: json.RawMessage(`{"n":` + string(rune('1'+i)) + `}`)})
	}
	h, err := New(Config{Reader: failedReader{}, Writer: &fakeWriter{}, Logger: slog.New(slog.DiscardHandler), Guest: &testGuest,
		Audit: fakeAuditLog{events: evs}, History: hist, Badges: fakeBadges{changes: map[string][]badges.Change{"component:default/a": {change}}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// TestAuditAnswersAreUnchanged checks the audit endpoints' answers byte for
// byte against testdata/audit, recorded when their logic lived in the
// handlers: the entity history pages (with the badge changes on the first),
// the diff between two instants, the raw events with their cursor, the
// verification's lines and the errors.
func TestAuditAnswersAreUnchanged(t *testing.T) {
	t.Parallel()
	srv := auditServer(t)
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
	}{
		{"history-first-page", "GET", "/api/audit/entities/component/default/a/history?limit=1", "", 200},
		{"history-second-page", "GET", "/api/audit/entities/component/default/a/history?after=1&limit=1", "", 200},
		{"history-whole", "GET", "/api/audit/entities/Component/default/A/history", "", 200},
		{"history-removed", "GET", "/api/audit/entities/component/default/b/history", "", 200},
		{"history-past-the-end", "GET", "/api/audit/entities/component/default/a/history?after=2", "", 200},
		{"history-unknown", "GET", "/api/audit/entities/component/default/nope/history", "", 404},
		{"history-bad-limit", "GET", "/api/audit/entities/component/default/a/history?limit=501", "", 400},
		{"diff", "GET", "/api/audit/diff?from=" + auditAt(2).Format(time.RFC3339) + "&to=" + auditAt(4).Format(time.RFC3339), "", 200},
		{"diff-backwards", "GET", "/api/audit/diff?from=" + auditAt(4).Format(time.RFC3339) + "&to=" + auditAt(2).Format(time.RFC3339), "", 200},
		{"diff-from-nothing", "GET", "/api/audit/diff?from=" + auditAt(0).Format(time.RFC3339) + "&to=" + auditAt(2).Format(time.RFC3339), "", 200},
		{"diff-bad-from", "GET", "/api/audit/diff?from=yesterday&to=1", "", 400},
		{"events-full-page", "GET", "/api/audit/events?limit=2", "", 200},
		{"events-next-page", "GET", "/api/audit/events?limit=2&after=0:2", "", 200},
		{"events-subject", "GET", "/api/audit/events?subject=Component:default/B", "", 200},
		{"events-none", "GET", "/api/audit/events?type=nothing", "", 200},
		{"verify", "POST", "/api/audit/verify", "", 200},
		{"verify-checkpoint", "POST", "/api/audit/verify", `{"checkpoints":{"2":"other"}}`, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			res := send(t, req)
			if res.status != tc.status {
				t.Fatalf("%s %s: status %d, want %d: %s", tc.method, tc.path, res.status, tc.status, res.body)
			}
			file := filepath.Join("testdata", "audit", tc.name+".json")
			if *updateAudit {
				if err := os.WriteFile(file, res.body, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(res.body, want) {
				t.Errorf("%s %s answers\n%s\nwant (%s)\n%s", tc.method, tc.path, res.body, file, want)
			}
		})
	}
}
