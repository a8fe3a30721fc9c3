package catalogsql_test

import (
	"fmt"
	"testing"

	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/catalogsql"
)

var (
	sqlite   = catalogsql.Dialect{}
	postgres = catalogsql.Dialect{Postgres: true, CreatedArg: func(v string) any { return "eid:" + v }}
)

// TestRenderingPerDialect pins the SQL each dialect renders for the shared
// conditions, with their arguments in placeholder order.
func TestRenderingPerDialect(t *testing.T) {
	t.Parallel()
	f := catalogstore.Filter{
		{{Key: "Kind", Values: []string{"Component"}}, {Key: "spec.type", Values: []string{"Service", "website"}}},
		{{Key: "relations.ownedBy", Values: []string{"group:default/Team-A"}}, {Key: "metadata.tags"}},
	}
	order := []catalogstore.Order{{Field: "metadata.name"}, {Field: catalogstore.CreationOrder, Desc: true}}
	ks := &catalogstore.Keyset{Values: []string{"a", "12"}, Key: "component:default/a"}
	cases := []struct {
		name string
		d    catalogsql.Dialect
		fn   func(a *catalogsql.Args) string
		sql  string
		args string
	}{
		{"sqlite set filter", sqlite, func(a *catalogsql.Args) string { return catalogsql.Filter(f, catalogsql.Set, a) },
			`((e.kind IN (?) AND e.eid IN (SELECT eid FROM search WHERE kid = (SELECT id FROM search_keys WHERE key = ?) AND value IN (?,?))) OR ((e.eid IN (SELECT origin FROM relations WHERE ltype = ? AND target IN (?)) OR e.key IN (SELECT r.target FROM relations r JOIN entities o ON o.eid = r.origin WHERE r.lreverse = ? AND o.key IN (?))) AND e.eid IN (SELECT eid FROM search WHERE kid = (SELECT id FROM search_keys WHERE key = ?))))`,
			`[component spec.type service website ownedby group:default/team-a ownedby group:default/team-a metadata.tags]`},
		{"sqlite per-row filter without column indexes", sqlite, func(a *catalogsql.Args) string { return catalogsql.Filter(f[:1], catalogsql.PerRowNoColumnIndex, a) },
			`((+e.kind IN (?) AND EXISTS (SELECT 1 FROM search s WHERE s.eid = e.eid AND s.kid = (SELECT id FROM search_keys WHERE key = ?) AND s.value IN (?,?))))`,
			`[component spec.type service website]`},
		{"postgres filter", postgres, func(a *catalogsql.Args) string { return catalogsql.Filter(f, catalogsql.Set, a) },
			`((e.kind = $1 AND EXISTS (SELECT 1 FROM search s WHERE s.eid = e.eid AND s.kid = (SELECT id FROM search_keys WHERE key = $2) AND s.value = ANY($3))) OR ((e.eid IN (SELECT origin FROM relations WHERE ltype = $4 AND target = $5) OR e.key IN (SELECT r.target FROM relations r JOIN entities o ON o.eid = r.origin WHERE r.lreverse = $6 AND o.key = $7)) AND EXISTS (SELECT 1 FROM search s WHERE s.eid = e.eid AND s.kid = (SELECT id FROM search_keys WHERE key = $8))))`,
			`[component spec.type [service website] ownedby group:default/team-a ownedby group:default/team-a metadata.tags]`},
		{"empty filter", sqlite, func(a *catalogsql.Args) string { return catalogsql.Filter(nil, catalogsql.Set, a) }, `1=1`, `[]`},
		{"empty filter postgres", postgres, func(a *catalogsql.Args) string { return catalogsql.Filter(nil, catalogsql.PerRow, a) }, `TRUE`, `[]`},
		{"postgres filter of one kind as a range", postgres, func(a *catalogsql.Args) string { return catalogsql.Filter(f[:1], catalogsql.PerRowKindRange, a) },
			`(((e.kind >= $1 AND e.kind <= $1) AND EXISTS (SELECT 1 FROM search s WHERE s.eid = e.eid AND s.kid = (SELECT id FROM search_keys WHERE key = $2) AND s.value = ANY($3))))`,
			`[component spec.type [service website]]`},
		{"postgres creation order filter", postgres, func(a *catalogsql.Args) string {
			return catalogsql.Condition(catalogstore.Condition{Key: catalogstore.CreationOrder, Values: []string{"7"}}, catalogsql.PerRow, a)
		}, `e.eid = $1`, `[eid:7]`},
		{"sqlite full text in fields", sqlite, func(a *catalogsql.Args) string {
			return catalogsql.FullText(catalogstore.FullText{Term: " 50%_Off ", Fields: []string{"Metadata.Name"}}, a)
		}, `e.eid IN (SELECT eid FROM search WHERE kid IN (SELECT id FROM search_keys WHERE key IN (?)) AND value LIKE ? ESCAPE '\')`, `[metadata.name %50\%\_off%]`},
		{"sqlite sort", sqlite, func(a *catalogsql.Args) string { s, _ := catalogsql.SortExpr("spec.owner", true, a); return s },
			`COALESCE((SELECT MIN(value) FROM search s WHERE s.eid = e.eid AND s.kid = (SELECT id FROM search_keys WHERE key = ?) AND s.value <> ''), '')`, `[spec.owner]`},
		{"postgres sort", postgres, func(a *catalogsql.Args) string { s, _ := catalogsql.SortExpr("spec.owner", false, a); return s },
			`COALESCE((SELECT MIN(s.value) FROM search s WHERE s.eid = e.eid AND s.kid = (SELECT id FROM search_keys WHERE key = $1) AND s.value <> ''), $2::text COLLATE "C")`, "[spec.owner \U0010FFFF]"},
		{"sqlite keyset", sqlite, func(a *catalogsql.Args) string {
			return catalogsql.KeysetCond(order, []bool{false, true}, ks, false, a)
		},
			`s0 >= ? AND ((s0 > ?) OR (s0 = ? AND s1 < ?) OR (s0 = ? AND s1 = ? AND key > ?))`,
			`[a a a 12 a 12 component:default/a]`},
		{"postgres keyset before", postgres, func(a *catalogsql.Args) string { return catalogsql.KeysetCond(order, []bool{false, true}, ks, true, a) },
			`s0 COLLATE "C" <= $1 AND ((s0 COLLATE "C" < $2) OR (s0 COLLATE "C" = $3 AND s1 > $4) OR (s0 COLLATE "C" = $5 AND s1 = $6 AND key < $7))`,
			`[a a a eid:12 a eid:12 component:default/a]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a := catalogsql.NewArgs(c.d)
			if got := c.fn(a); got != c.sql {
				t.Errorf("sql\n got: %s\nwant: %s", got, c.sql)
			}
			if got := fmt.Sprint(a.Values()); got != c.args {
				t.Errorf("args = %s, want %s", got, c.args)
			}
		})
	}
}

// A dialect that knows a key's id names it as a value; a key it does not
// know is looked up in the statement.
func TestKnownKeysAreNamedByTheirIDs(t *testing.T) {
	t.Parallel()
	d := catalogsql.Dialect{Postgres: true, KnownKey: func(key string) (any, bool) {
		if key == "spec.lifecycle" {
			return int32(7), true
		}
		return nil, false
	}}
	a := catalogsql.NewArgs(d)
	got := catalogsql.Filter(catalogstore.Filter{{
		{Key: "spec.lifecycle", Values: []string{"Production"}},
		{Key: "spec.owner", Values: []string{"team-a"}},
	}}, catalogsql.PerRow, a)
	want := `((EXISTS (SELECT 1 FROM search s WHERE s.eid = e.eid AND s.kid = $1 AND s.value = $2) AND EXISTS (SELECT 1 FROM search s WHERE s.eid = e.eid AND s.kid = (SELECT id FROM search_keys WHERE key = $3) AND s.value = $4)))`
	if got != want {
		t.Errorf("rendered\n%s\nwant\n%s", got, want)
	}
	if args := fmt.Sprint(a.Values()); args != "[7 production spec.owner team-a]" {
		t.Errorf("arguments %s", args)
	}
}

// TestSplitByKind checks the parts of a filter per kind: each kind a
// conjunction admits, with the conjunctions that admit it less their kind
// conditions, and no split where a conjunction admits any kind.
func TestSplitByKind(t *testing.T) {
	t.Parallel()
	cond := func(key string, vals ...string) catalogstore.Condition {
		return catalogstore.Condition{Key: key, Values: vals}
	}
	cases := []struct {
		name string
		f    catalogstore.Filter
		most int
		want string // fmt's %v of the parts; "no" for no split
	}{
		{"one condition on two kinds", catalogstore.Filter{{cond("Kind", "Component", "API"), cond("spec.type", "service")}}, 16,
			`[{api [[{spec.type [service]}]]} {component [[{spec.type [service]}]]}]`},
		{"a kind in each conjunction", catalogstore.Filter{{cond("kind", "api")}, {cond("kind", "component"), cond("spec.owner", "a")}, {cond("kind", "COMPONENT", "group")}}, 16,
			`[{api [[]]} {component [[{spec.owner [a]}] []]} {group [[]]}]`},
		{"kinds narrowed in a conjunction", catalogstore.Filter{{cond("kind", "component", "api"), cond("kind", "API", "group")}}, 16,
			`[{api [[]]}]`},
		{"a conjunction of any kind", catalogstore.Filter{{cond("kind", "api")}, {cond("spec.type", "service")}}, 16, "no"},
		{"a bare kind key", catalogstore.Filter{{cond("kind")}}, 16, "no"},
		{"no kind in both", catalogstore.Filter{{cond("kind", "api"), cond("kind", "group")}}, 16, "no"},
		{"more kinds than asked", catalogstore.Filter{{cond("kind", "a", "b", "c")}}, 2, "no"},
		{"no filter", nil, 16, "no"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			parts, ok := catalogsql.SplitByKind(c.f, c.most)
			got := "no"
			if ok {
				got = fmt.Sprintf("%v", parts)
			}
			if got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

// TestItemLists names the lists a facet's item rows' part reads: every
// prefix of a dotted key, only when the dialect derives item keys.
func TestItemLists(t *testing.T) {
	t.Parallel()
	items := catalogsql.Dialect{ItemRows: true}
	cases := []struct {
		d    catalogsql.Dialect
		key  string
		want string
	}{
		{items, "metadata.tags.java", "[metadata metadata.tags]"},
		{items, "spec.type", "[spec]"},
		{items, "kind", "[]"},
		{sqlite, "metadata.tags.java", "[]"},
	}
	for _, c := range cases {
		if got := fmt.Sprint(c.d.ItemLists(c.key)); got != c.want {
			t.Errorf("ItemLists(%q) with ItemRows %v = %s, want %s", c.key, c.d.ItemRows, got, c.want)
		}
	}
}
