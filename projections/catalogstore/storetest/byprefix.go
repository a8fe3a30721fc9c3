package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
)

// RunNamePrefix checks a store's catalogstore.PrefixLister: among 600
// components (service-0 … service-599) and a few groups and users, it finds
// the entities whose name starts with a prefix, in name order, of one kind
// or any, compared lower case, never more than the limit, and nothing for a
// prefix no name has.
func RunNamePrefix(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	pl, ok := s.(catalogstore.PrefixLister)
	if !ok {
		t.Fatalf("%T does not list entities by name prefix", s)
	}
	evs := Components(t, 0, 600)
	for i, body := range []map[string]any{
		{"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": map[string]any{"name": "Service-Desk"}, "spec": map[string]any{"type": "team", "children": []any{}}},
		{"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": map[string]any{"name": "platform"}, "spec": map[string]any{"type": "team", "children": []any{}}},
		{"apiVersion": "backstage.io/v1alpha1", "kind": "User", "metadata": map[string]any{"name": "servane", "namespace": "people"}, "spec": map[string]any{"memberOf": []any{}}},
	} {
		e, err := catalog.NewEntity(body)
		if err != nil {
			t.Fatal(err)
		}
		raw := e.JSON()
		ev, err := event.New(event.TypeEntityUpserted, e.Ref().Key(), event.EntityUpserted{
			Ref: e.Ref().String(), UID: fmt.Sprintf("uid-extra-%d", i), Hash: catalog.HashJSON(raw), Entity: raw,
			LocationID: "L1", ManagedBy: "file:/catalog/all.yaml", OriginLocation: "file:/catalog/all.yaml",
		}, event.Meta{Actor: "location:L1"})
		if err != nil {
			t.Fatal(err)
		}
		ev.Position = int64(len(evs) + 1)
		evs = append(evs, ev)
	}
	if err := s.Apply(ctx, evs); err != nil {
		t.Fatal(err)
	}
	refs := func(kind, prefix string, limit int) string {
		t.Helper()
		got, err := pl.ByNamePrefix(ctx, kind, prefix, limit)
		if err != nil {
			t.Fatalf("ByNamePrefix(%q, %q, %d): %v", kind, prefix, limit, err)
		}
		out := make([]string, len(got))
		for i, v := range got {
			if len(v.Body) == 0 || v.UID == "" || v.Key != strings.ToLower(v.Ref) {
				t.Errorf("ByNamePrefix(%q, %q): a view without its body, uid or key: %+v", kind, prefix, v)
			}
			out[i] = v.Ref
		}
		return strings.Join(out, " ")
	}
	for _, c := range []struct {
		name, kind, prefix string
		limit              int
		want               string
	}{
		{"one kind, a prefix of eleven names", "component", "service-59", 50,
			"component:default/service-59 component:default/service-590 component:default/service-591 component:default/service-592 component:default/service-593 component:default/service-594 component:default/service-595 component:default/service-596 component:default/service-597 component:default/service-598 component:default/service-599"},
		{"limited", "Component", "SERVICE-5", 3, "component:default/service-5 component:default/service-50 component:default/service-500"},
		{"the first names of a kind", "component", "", 2, "component:default/service-0 component:default/service-1"},
		{"a kind whose name is written in capitals", "group", "serv", 10, "group:default/Service-Desk"},
		{"any kind, in name order", "", "serva", 10, "user:people/servane"},
		{"any kind, several kinds", "", "service-d", 10, "group:default/Service-Desk"},
		{"no name has it", "component", "zz", 10, ""},
		{"a prefix past every name of the kind", "component", "service-9999", 10, ""},
		{"an odd character", "", "service-\U0010ffff", 10, ""},
	} {
		if got := refs(c.kind, c.prefix, c.limit); got != c.want {
			t.Errorf("%s: ByNamePrefix(%q, %q, %d) = %q, want %q", c.name, c.kind, c.prefix, c.limit, got, c.want)
		}
	}
}
