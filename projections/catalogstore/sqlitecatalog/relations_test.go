package sqlitecatalog_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// TestPageRelationsAsByKeys checks that the relations of a page's entities
// (read by row id, in one range) are those ByKeys gives each entity alone,
// on pages read forwards and backwards (a backward page is reversed in
// place before its relations are read), and on a filtered page whose row
// ids are far apart.
func TestPageRelationsAsByKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := sqlitecatalog.Open(filepath.Join(t.TempDir(), "c.db"), sqlitecatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Apply(ctx, upserts(t, 0, 300)); err != nil {
		t.Fatal(err)
	}
	check := func(what string, page catalogstore.Page) {
		t.Helper()
		if len(page.Items) == 0 {
			t.Fatalf("%s: an empty page", what)
		}
		for _, v := range page.Items {
			alone, err := s.ByKeys(ctx, []string{v.Key})
			if err != nil {
				t.Fatal(err)
			}
			if len(v.Relations) == 0 || !reflect.DeepEqual(v.Relations, alone[0].Relations) {
				t.Errorf("%s: %s has relations %v, alone %v", what, v.Key, v.Relations, alone[0].Relations)
			}
		}
	}
	first, err := s.Query(ctx, catalogstore.PageQuery{Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	check("first page", first)
	second, err := s.Query(ctx, catalogstore.PageQuery{Limit: 20, After: first.Last})
	if err != nil {
		t.Fatal(err)
	}
	check("second page", second)
	back, err := s.Query(ctx, catalogstore.PageQuery{Limit: 20, Before: second.Last})
	if err != nil {
		t.Fatal(err)
	}
	check("a page read backwards", back)
	// Every 7th component: row ids far apart, read by ByKeys in lists.
	var names []string
	for i := 0; i < 300; i += 7 {
		names = append(names, fmt.Sprintf("component:default/service-%d", i))
	}
	sparse, err := s.ByKeys(ctx, names)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range sparse {
		if v == nil {
			t.Fatalf("%s: not found", names[i])
		}
		alone, err := s.ByKeys(ctx, []string{v.Key})
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Relations) == 0 || !reflect.DeepEqual(v.Relations, alone[0].Relations) {
			t.Errorf("sparse: %s has relations %v, alone %v", v.Key, v.Relations, alone[0].Relations)
		}
	}
}

// TestPageDecoratesOnlyThePickedEntities checks that a page read with
// PageQuery.Decorate asks about each of its entities once, in page order, and
// reads relations for the picked ones alone: those have every relation ByKeys
// gives each alone, the others none, and every entity its body.
func TestPageDecoratesOnlyThePickedEntities(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := sqlitecatalog.Open(filepath.Join(t.TempDir(), "c.db"), sqlitecatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Apply(ctx, upserts(t, 0, 120)); err != nil {
		t.Fatal(err)
	}
	plain, err := s.Query(ctx, catalogstore.PageQuery{Limit: 40})
	if err != nil {
		t.Fatal(err)
	}
	var asked []string
	picked := map[string]bool{}
	page, err := s.Query(ctx, catalogstore.PageQuery{Limit: 40, Decorate: func(v *catalogstore.EntityView) bool {
		asked = append(asked, v.Key)
		picked[v.Key] = len(asked)%3 == 0
		return picked[v.Key]
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 40 || len(asked) != 40 {
		t.Fatalf("%d entities in the page, %d asked about, want 40 each", len(page.Items), len(asked))
	}
	for i, v := range page.Items {
		if asked[i] != v.Key || plain.Items[i].Key != v.Key || string(plain.Items[i].Body) != string(v.Body) {
			t.Fatalf("entity %d: %s, asked about %s, plainly %s (bodies equal %v)", i, v.Key, asked[i], plain.Items[i].Key, string(plain.Items[i].Body) == string(v.Body))
		}
		if !picked[v.Key] {
			if v.Relations != nil || v.Status != nil {
				t.Errorf("%s was not picked, and has relations %v and status %v", v.Key, v.Relations, v.Status)
			}
			continue
		}
		alone, err := s.ByKeys(ctx, []string{v.Key})
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Relations) == 0 || !reflect.DeepEqual(v.Relations, alone[0].Relations) {
			t.Errorf("%s has relations %v, alone %v", v.Key, v.Relations, alone[0].Relations)
		}
	}
}

// TestRelationsOfUnusualTargets checks that relations whose target refs hold
// commas, digits and characters of several bytes (a page's declared
// relations are packed into one text per entity and split again) read back
// exactly, whether the entities' row ids are read in one range or, far
// apart, in a list.
func TestRelationsOfUnusualTargets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := sqlitecatalog.Open(filepath.Join(t.TempDir(), "c.db"), sqlitecatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	owners := []string{"tëam,12,3x", "1,2", "ß", "日本,9,", "a"}
	var evs []event.Envelope
	for i := 0; i < 50; i++ {
		body := storetest.ComponentBody(i, 40)
		spec := body["spec"].(map[string]any)
		spec["owner"] = "group:default/" + owners[i%len(owners)]
		spec["dependsOn"] = []any{fmt.Sprintf("component:default/x,%d,ü", i)}
		e, err := catalog.NewEntity(body)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := event.New(event.TypeEntityUpserted, e.Ref().Key(), event.EntityUpserted{
			Ref: e.Ref().String(), UID: fmt.Sprintf("uid-%d", i), Hash: catalog.HashJSON(e.JSON()), Entity: e.JSON(),
			LocationID: "L1", ManagedBy: "file:/catalog/all.yaml", OriginLocation: "file:/catalog/all.yaml",
		}, event.Meta{Actor: "location:L1"})
		if err != nil {
			t.Fatal(err)
		}
		ev.Position = int64(i) + 1
		evs = append(evs, ev)
	}
	if err := s.Apply(ctx, evs); err != nil {
		t.Fatal(err)
	}
	check := func(what string, views []*catalogstore.EntityView, is []int) {
		t.Helper()
		for j, v := range views {
			i := is[j]
			want := map[string]bool{
				"ownedBy\x00group:default/" + owners[i%len(owners)]:     true,
				fmt.Sprintf("dependsOn\x00component:default/x,%d,ü", i): true,
			}
			for _, r := range v.Relations {
				delete(want, r.Type+"\x00"+r.TargetRef)
			}
			if len(want) > 0 {
				t.Errorf("%s: service-%d lacks %v among its relations %v", what, i, want, v.Relations)
			}
		}
	}
	for _, is := range [][]int{{7}, {0, 49}, {3, 17, 31, 45}} {
		keys := make([]string, len(is))
		for j, i := range is {
			keys[j] = fmt.Sprintf("component:default/service-%d", i)
		}
		views, err := s.ByKeys(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		check(fmt.Sprintf("by keys %v", is), views, is)
	}
	page, err := s.Query(ctx, catalogstore.PageQuery{Order: []catalogstore.Order{{Field: catalogstore.KeyOrder}}})
	if err != nil {
		t.Fatal(err)
	}
	views := make([]*catalogstore.EntityView, len(page.Items))
	is := make([]int, len(page.Items))
	for j := range page.Items {
		views[j] = &page.Items[j]
		if _, err := fmt.Sscanf(page.Items[j].Key, "component:default/service-%d", &is[j]); err != nil {
			t.Fatal(err)
		}
	}
	if len(views) != 50 {
		t.Fatalf("a page of %d entities, want 50", len(views))
	}
	check("a page in key order", views, is)
}
