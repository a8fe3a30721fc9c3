package webui

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/auth"
	"backlot.dev/backlot/projections/catalogstore"
)

// lagTitle is the tooltip of a lagging count, with its age in seconds.
var lagTitle = regexp.MustCompile(`title="counted ([0-9]+(?:\.[0-9])?) s ago; the catalog changes faster than it is counted">≈ ([0-9,]+)</span>`)

// TestLaggingCountsShowAsApproximate serves pages over a catalog whose count
// and facet cache counts exactly up to 3 matches: after a write, a total or a
// facet over more is the answer from before the write, shown "≈ 1,200" with
// its age in a tooltip and a note; a count over few matches, and every count
// before the write, is shown exact.
func TestLaggingCountsShowAsApproximate(t *testing.T) {
	const n = 1200
	f := newFixtureLag(t, n, Config{Identify: func(*http.Request) (auth.Principal, error) {
		return auth.Principal{Ref: "user:default/ada"}, nil
	}}, catalogstore.LagOptions{ExactUpTo: 3, MaxLag: time.Hour, RefreshEvery: time.Hour})
	get := func(path string) string {
		t.Helper()
		code, body := f.get(t, path)
		if code != 200 {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		return body
	}
	exact := func(path string, want ...string) {
		t.Helper()
		body := get(path)
		for _, bad := range []string{"≈", "data-lagging", "lag-note", "counted"} {
			if strings.Contains(body, bad) {
				t.Errorf("GET %s with exact counts holds %q", path, bad)
			}
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s lacks %q", path, w)
			}
		}
	}
	const (
		catalog = "/catalog"
		one     = "/catalog?q=service-1199"
		home    = "/"
	)
	// Before any write every count is exact, computed then cached.
	for range 2 {
		exact(catalog, "25 shown of 1200<", `aria-label="1200 entities">1200<`)
		exact(one, "1 shown of 1<")
		exact(home, "What you own <span class=\"muted\">(31)</span>")
	}
	time.Sleep(150 * time.Millisecond)

	late := upsert(t, map[string]any{"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
		"metadata": map[string]any{"name": "late-1"},
		"spec":     map[string]any{"type": "service", "lifecycle": "production", "owner": "team-0"}}, n+100)
	if err := f.cat.Apply(context.Background(), []event.Envelope{late}); err != nil {
		t.Fatal(err)
	}

	// The catalog's total and its facets are the answers from before the
	// write, marked with their age.
	body := get(catalog)
	if !strings.Contains(body, `25 shown of <span class="approx" data-lagging title="counted `) {
		t.Errorf("the lagging total is not marked approximate:\n%s", excerpt(body, "shown of"))
	}
	marks := lagTitle.FindAllStringSubmatch(body, -1)
	if len(marks) < 2 {
		t.Fatalf("want the total and the kind facet marked, found %d marks:\n%s", len(marks), excerpt(body, "shown of"))
	}
	for _, m := range marks {
		age, err := strconv.ParseFloat(m[1], 64)
		if err != nil || age < 0.1 || age > 3600 {
			t.Errorf("a lagging count's age is %q s, want the answer's age (at least the 0.15 s slept)", m[1])
		}
	}
	if marks[0][2] != "1,200" {
		t.Errorf("the lagging total shows %q, want the count from before the write, 1,200", marks[0][2])
	}
	for _, w := range []string{
		`aria-label="about 1,200 entities, counted `,
		`<p class="muted lag-note">≈ The total was counted `,
		`<p class="muted lag-note">Counts marked ≈ were counted up to `,
	} {
		if !strings.Contains(body, w) {
			t.Errorf("GET %s after a write lacks %q", catalog, w)
		}
	}
	// A total over one match is counted again: exact, while the facets over
	// every component still lag.
	body = get(one)
	if !strings.Contains(body, "1 shown of 1<") || strings.Contains(body, "≈ The total") {
		t.Errorf("a total over one match is not shown exact:\n%s", excerpt(body, "shown of"))
	}
	if !strings.Contains(body, "Counts marked ≈") {
		t.Errorf("the facets over every component do not say they lag")
	}
	// The new component is on its page at once: entities never lag.
	if body := get("/catalog?q=late-1"); !strings.Contains(body, "1 shown of 1<") || !strings.Contains(body, ">late-1<") {
		t.Errorf("the written component is not listed at once:\n%s", excerpt(body, "shown of"))
	}
	// Home's total of what ada owns (30 components and the API; the new one not yet) lags too.
	body = get(home)
	if m := lagTitle.FindStringSubmatch(body); m == nil || m[2] != "31" || !strings.Contains(body, "≈ The total was counted") {
		t.Errorf("Home's lagging total is not marked approximate:\n%s", excerpt(body, "What you own"))
	}
}

// excerpt is the part of body around the first want, for a failure's message.
func excerpt(body, want string) string {
	i := strings.Index(body, want)
	if i < 0 {
		return body[:min(len(body), 2000)]
	}
	return body[max(0, i-600):min(len(body), i+600)]
}

func TestCountHTMLAndLabel(t *testing.T) {
	t.Parallel()
	lag := Lag{Lagging: true, Age: 12400 * time.Millisecond}
	for _, c := range []struct {
		name        string
		n           int
		lag         Lag
		html, label string
	}{
		{"exact", 123456, Lag{}, "123456", "123456 entities"},
		{"lagging, seconds", 123456, lag, `<span class="approx" data-lagging title="counted 12 s ago; the catalog changes faster than it is counted">≈ 123,456</span>`, "about 123,456 entities, counted 12 s ago"},
		{"lagging, tenths", 1234567, Lag{Lagging: true, Age: 1250 * time.Millisecond}, `<span class="approx" data-lagging title="counted 1.2 s ago; the catalog changes faster than it is counted">≈ 1,234,567</span>`, "about 1,234,567 entities, counted 1.2 s ago"},
		{"lagging, small", 999, Lag{Lagging: true}, `<span class="approx" data-lagging title="counted 0.0 s ago; the catalog changes faster than it is counted">≈ 999</span>`, "about 999 entities, counted 0.0 s ago"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := string(countHTML(c.n, c.lag)); got != c.html {
				t.Errorf("countHTML = %s, want %s", got, c.html)
			}
			if got := countLabel(c.n, c.lag, "entities"); got != c.label {
				t.Errorf("countLabel = %q, want %q", got, c.label)
			}
		})
	}
	if got := grouped(-1234); got != "-1,234" {
		t.Errorf("grouped(-1234) = %q", got)
	}
	if got := (Lag{}).Merge(Lag{Lagging: true, Age: time.Second}).Merge(Lag{Age: 3 * time.Second}); !got.Lagging || got.Age != 3*time.Second {
		t.Errorf("Merge = %+v, want lagging, 3s", got)
	}
}
