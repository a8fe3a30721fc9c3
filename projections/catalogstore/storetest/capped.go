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

// CheckByKeyCapped checks a store's catalogstore.CappedReader against its
// ByKeys: for a group that owns twelve components and is the parent of
// another (which names it as its parent: the relation is declared from both
// ends and counted once), for components with relations both ways, and for
// each cap, ByKeyCapped gives every type's count as ByKeys has it, at most
// the cap of each type, each one of ByKeys's relations, in ByKeys's order;
// with a cap no type exceeds, exactly what ByKeys gives; a missing entity
// is nil.
func CheckByKeyCapped(t *testing.T, st catalogstore.Store) {
	t.Helper()
	ctx := context.Background()
	capped, ok := st.(catalogstore.CappedReader)
	if !ok {
		t.Fatal("the store is no catalogstore.CappedReader")
	}
	bodies := []map[string]any{
		{"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": map[string]any{"name": "team-0"},
			"spec": map[string]any{"type": "team", "children": []any{"team-1"}}},
		{"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": map[string]any{"name": "team-1"},
			"spec": map[string]any{"type": "team", "parent": "team-0", "children": []any{}}},
	}
	for i := range 24 {
		bodies = append(bodies, ComponentBody(i, 2))
	}
	var evs []event.Envelope
	for i, b := range bodies {
		e, err := catalog.NewEntity(b)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, upsertInL1(t, e, i, int64(i)+1))
	}
	if err := st.Apply(ctx, evs); err != nil {
		t.Fatal(err)
	}
	keys := []string{"group:default/team-0", "group:default/team-1", "component:default/service-3", "Component:default/Service-4"}
	full, err := st.ByKeys(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(full[0].Relations); n < 13 {
		t.Fatalf("the fixture's group has %d relations, want 12 ownerOf and a parentOf", n)
	}
	for i, key := range keys {
		want := map[string]int{}
		most := 0
		for _, r := range full[i].Relations {
			want[r.Type]++
			most = max(most, want[r.Type])
		}
		for _, perType := range []int{1, 2, 5, most} {
			v, counts, err := capped.ByKeyCapped(ctx, key, perType)
			if err != nil {
				t.Fatal(err)
			}
			if v == nil {
				t.Fatalf("%s capped at %d: not found", key, perType)
			}
			if jsonOf(t, counts) != jsonOf(t, want) {
				t.Errorf("%s capped at %d counts %v, want %v (ByKeys)", key, perType, counts, want)
			}
			got := map[string]int{}
			next := 0 // the relations are ByKeys's, in its order
			for _, r := range v.Relations {
				got[r.Type]++
				for next < len(full[i].Relations) && full[i].Relations[next] != r {
					next++
				}
				if next == len(full[i].Relations) {
					t.Fatalf("%s capped at %d: %+v is not one of ByKeys's relations, or out of its order:\n%s", key, perType, r, jsonOf(t, v.Relations))
				}
			}
			for typ, n := range want {
				if got[typ] != min(n, perType) {
					t.Errorf("%s capped at %d has %d %s relations of %d", key, perType, got[typ], typ, n)
				}
			}
			if perType == most {
				if g, w := jsonOf(t, v), jsonOf(t, full[i]); g != w {
					t.Errorf("%s capped at %d, which no type exceeds:\n%s\nByKeys:\n%s", key, perType, g, w)
				}
			}
		}
	}
	if v, counts, err := capped.ByKeyCapped(ctx, "component:default/missing", 3); err != nil || v != nil || counts != nil {
		t.Fatalf("a missing entity capped: %v, %v, %v; want nil", v, counts, err)
	}
	if !strings.Contains(jsonOf(t, full[0].Relations), `"parentOf"`) {
		t.Fatal("the fixture's group is no parent")
	}
}

// BenchByKeyCapped measures reading a group that owns n components whole
// (ByKeys) and capped at 100 relations a type (ByKeyCapped), the entity
// page's two ways, reporting the process's CPU per read (cpu-ms/op).
func BenchByKeyCapped(b *testing.B, st catalogstore.Store, n int) {
	ctx := context.Background()
	evs := make([]event.Envelope, 0, n+1)
	group, err := catalog.NewEntity(map[string]any{"apiVersion": "backstage.io/v1alpha1", "kind": "Group",
		"metadata": map[string]any{"name": "team-0"}, "spec": map[string]any{"type": "team", "children": []any{}}})
	if err != nil {
		b.Fatal(err)
	}
	for i := range n + 1 {
		e := group
		if i > 0 {
			if e, err = catalog.NewEntity(ComponentBody(i, 1)); err != nil {
				b.Fatal(err)
			}
		}
		evs = append(evs, upsertInL1(b, e, i, int64(i)+1))
	}
	for i := 0; i < len(evs); i += 2000 {
		if err := st.Apply(ctx, evs[i:min(i+2000, len(evs))]); err != nil {
			b.Fatal(err)
		}
	}
	const key = "group:default/team-0"
	for _, c := range []struct {
		name string
		read func() (int, error)
	}{
		{"whole", func() (int, error) {
			vs, err := st.ByKeys(ctx, []string{key})
			if err != nil {
				return 0, err
			}
			return len(vs[0].Relations), nil
		}},
		{"capped", func() (int, error) {
			v, counts, err := st.(catalogstore.CappedReader).ByKeyCapped(ctx, key, 100)
			if err != nil {
				return 0, err
			}
			if counts["ownerOf"] != n {
				return 0, fmt.Errorf("ownerOf counted %d, want %d", counts["ownerOf"], n)
			}
			return len(v.Relations), nil
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var m CPUMeter
			m.Start()
			for b.Loop() {
				if _, err := c.read(); err != nil {
					b.Fatal(err)
				}
			}
			m.Stop()
			b.ReportMetric(float64(m.Spent().Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}
