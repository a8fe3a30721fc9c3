package catalogdir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/auth"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
)

// people is the catalog of the tests: ada in a team of a department of the
// organisation and in a pair of groups that are each other's parent; two
// Users sharing an e-mail.
var people = []map[string]any{
	group("org", ""), group("dept", "org"), group("team", "dept"), group("loop-a", "loop-b"), group("loop-b", "loop-a"),
	user("ada", "Ada@Example.com", "team", "loop-a", "group:ops/ghost"),
	user("twin-1", "twin@example.com"), user("twin-2", "twin@example.com"),
}

func group(name, parent string) map[string]any {
	spec := map[string]any{"type": "team", "children": []any{}}
	if parent != "" {
		spec["parent"] = parent
	}
	return map[string]any{"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": map[string]any{"name": name}, "spec": spec}
}

func user(name, email string, groups ...string) map[string]any {
	member := []any{}
	for _, g := range groups {
		member = append(member, g)
	}
	return map[string]any{"apiVersion": "backstage.io/v1alpha1", "kind": "User", "metadata": map[string]any{"name": name},
		"spec": map[string]any{"profile": map[string]any{"email": email}, "memberOf": member}}
}

// counting counts the reader's queries.
type counting struct {
	catalogstore.Reader
	n atomic.Int64
}

func (c *counting) Query(ctx context.Context, q catalogstore.PageQuery) (catalogstore.Page, error) {
	c.n.Add(1)
	return c.Reader.Query(ctx, q)
}

func (c *counting) ByKeys(ctx context.Context, keys []string) ([]*catalogstore.EntityView, error) {
	c.n.Add(1)
	return c.Reader.ByKeys(ctx, keys)
}

func newCatalog(t testing.TB) *counting {
	t.Helper()
	st, err := sqlitecatalog.Open(filepath.Join(t.TempDir(), "catalog.db"), sqlitecatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var evs []event.Envelope
	for i, body := range people {
		body["metadata"].(map[string]any)["annotations"] = map[string]any{
			catalog.AnnotationManagedByLocation: "file:/people.yaml", catalog.AnnotationManagedByOriginLocation: "file:/people.yaml"}
		e, err := catalog.NewEntity(body)
		if err != nil {
			t.Fatal(err)
		}
		raw := e.JSON()
		ev, err := event.New(event.TypeEntityUpserted, e.Ref().Key(), event.EntityUpserted{
			Ref: e.Ref().String(), UID: fmt.Sprintf("uid-%d", i), Hash: catalog.HashJSON(raw), Entity: json.RawMessage(raw),
			LocationID: "L1", ManagedBy: "file:/people.yaml", OriginLocation: "file:/people.yaml",
		}, event.Meta{Actor: "location:L1"})
		if err != nil {
			t.Fatal(err)
		}
		ev.Position = int64(i + 1)
		evs = append(evs, ev)
	}
	if err := st.Apply(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	return &counting{Reader: st}
}

func TestDirectory(t *testing.T) {
	r := newCatalog(t)
	d := New(r, time.Minute)
	for _, c := range []struct {
		by   auth.UserLookup
		want string
		err  string
	}{
		{auth.UserLookup{Email: "ada@example.com"}, "user:default/ada", ""},
		{auth.UserLookup{Email: " ADA@example.COM"}, "user:default/ada", ""},
		{auth.UserLookup{Name: "ada"}, "user:default/ada", ""},
		{auth.UserLookup{Name: "Ada"}, "user:default/ada", ""},
		{auth.UserLookup{Email: "zed@example.com"}, "", "no User entity"},
		{auth.UserLookup{Name: "zed"}, "", "no User entity"},
		{auth.UserLookup{Name: "team"}, "", "no User entity"},
		{auth.UserLookup{Name: "default/ada"}, "", "not a User name"},
		{auth.UserLookup{Email: "twin@example.com"}, "", "two Users have"},
	} {
		got, err := d.FindUser(t.Context(), c.by)
		if got != c.want || (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("FindUser(%+v) = %q, %v; want %q, %q", c.by, got, err, c.want, c.err)
		}
		if c.err == "no User entity" && !errors.Is(err, auth.ErrNoUser) {
			t.Errorf("FindUser(%+v): %v is not ErrNoUser", c.by, err)
		}
	}

	want := []string{"group:default/dept", "group:default/loop-a", "group:default/loop-b", "group:default/org", "group:default/team", "group:ops/ghost"}
	got, err := d.Groups(t.Context(), "user:default/ada", nil)
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("ada's groups: %v %v\nwant %v", got, err, want)
	}
	// A token's own groups, expanded the same way; unknown ones are kept.
	got, err = d.Groups(t.Context(), "service:ci", []string{"group:default/team", "group:default/elsewhere"})
	if want := []string{"group:default/dept", "group:default/elsewhere", "group:default/org", "group:default/team"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("a token's groups: %v %v", got, err)
	}

	// Answers are cached for the TTL, misses too.
	now := time.Now()
	d.now = func() time.Time { return now }
	d.Groups(t.Context(), "user:default/ada", []string{"x"})
	d.FindUser(t.Context(), auth.UserLookup{Email: "nobody@example.com"})
	before := r.n.Load()
	for range 3 {
		d.Groups(t.Context(), "user:default/ada", []string{"x"})
		d.FindUser(t.Context(), auth.UserLookup{Email: "nobody@example.com"})
	}
	if r.n.Load() != before {
		t.Errorf("cached answers queried the catalog %d times", r.n.Load()-before)
	}
	now = now.Add(2 * time.Minute)
	d.Groups(t.Context(), "user:default/ada", []string{"x"})
	if r.n.Load() == before {
		t.Error("an answer older than the TTL was not read again")
	}
}

// BenchmarkGroups measures a principal's group expansion: from the cache,
// and read from the SQLite catalog each time (no cache).
func BenchmarkGroups(b *testing.B) {
	r := newCatalog(b)
	for _, c := range []struct {
		name string
		ttl  time.Duration
	}{{"cached", time.Minute}, {"uncached", -1}} {
		b.Run(c.name, func(b *testing.B) {
			d := New(r, c.ttl)
			ctx := context.Background()
			for b.Loop() {
				if _, err := d.Groups(ctx, "user:default/ada", nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
