package sqlitecatalog_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
	"backlot.dev/backlot/projections/storekit/sqlitekit"
)

// TestUpgradeEmptiesTheReadModelForARefold opens a read model written with
// the layout before migration 0003 (relations both ways, search keys as
// text): Open empties it and resets its position, so the projector folds the
// log again from its start, and the refolded store answers with relations in
// both directions.
func TestUpgradeEmptiesTheReadModelForARefold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	old := fstest.MapFS{}
	for _, name := range []string{"migrations/0001_catalog.sql", "migrations/0002_name_search.sql"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		old[name] = &fstest.MapFile{Data: b}
	}
	w, r, err := sqlitekit.Open(path, sqlitekit.Options{Migrations: old, MigrationGlob: "migrations/*.sql"})
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`INSERT INTO entities(eid, key, ref, uid, kind, namespace, name, hash, body, updated_pos) VALUES (1, 'component:default/a', 'component:default/a', 'u', 'component', 'default', 'a', 'h', '{}', 1)`,
		`INSERT INTO relations VALUES (1, 'component:default/a', 'ownedBy', 'ownedby', 'group:default/t', 'group:default/t')`,
		`INSERT INTO relations VALUES (1, 'group:default/t', 'ownerOf', 'ownerof', 'component:default/a', 'component:default/a')`,
		`INSERT INTO search VALUES (1, 'metadata.name', 'a', NULL)`,
		`INSERT INTO positions VALUES ('` + catalogstore.ProjectionName + `', 7)`,
	} {
		if _, err := w.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	w.Close()
	r.Close()

	s, err := sqlitecatalog.Open(path, sqlitecatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if pos, err := s.Positions(ctx); err != nil || pos[0] != 0 {
		t.Fatalf("positions after the upgrade: %v, %v; want 0, so the log is folded again", pos, err)
	}
	if p, err := s.Query(ctx, catalogstore.PageQuery{CountTotal: true}); err != nil || p.TotalItems != 0 {
		t.Fatalf("entities after the upgrade: %+v, %v; want none", p, err)
	}
	// service-0 depends on service-3: service-3 has the reverse relation,
	// derived from service-0's row.
	if err := s.Apply(ctx, storetest.Components(t, 0, 5)); err != nil {
		t.Fatal(err)
	}
	v, err := s.ByKeys(ctx, []string{"component:default/service-3"})
	if err != nil || v[0] == nil {
		t.Fatalf("refolded entity: %v, %v", v, err)
	}
	got := map[string]bool{}
	for _, rel := range v[0].Relations {
		got[rel.Type+" "+rel.TargetRef] = true
	}
	for _, want := range []string{"dependencyOf component:default/service-0", "dependsOn component:default/service-6", "ownedBy group:default/team-3"} {
		if !got[want] {
			t.Errorf("service-3 lacks %s: %v", want, v[0].Relations)
		}
	}
	p, err := s.Query(ctx, catalogstore.PageQuery{Filter: catalogstore.Filter{{{Key: "relations.dependencyOf", Values: []string{"Component:default/service-0"}}}}, CountTotal: true})
	if err != nil || p.TotalItems != 1 || p.Items[0].Key != "component:default/service-3" {
		t.Fatalf("relations.dependencyOf service-0: %+v, %v; want service-3", p, err)
	}
}
