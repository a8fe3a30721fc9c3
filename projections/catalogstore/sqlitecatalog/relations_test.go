package sqlitecatalog_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
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
