package pgcatalog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// searchKeyState answers whether search has its primary key (as a
// constraint on eid, kid, value), how many indexes search and relations
// have, and whether the tables of the rows a replay sets aside exist.
func searchKeyState(t *testing.T, s *pgcatalog.Store) (pkey bool, indexes int, aside bool) {
	t.Helper()
	if err := s.Pool().QueryRow(context.Background(), `SELECT
		EXISTS (SELECT FROM pg_constraint WHERE conrelid = to_regclass('search') AND contype = 'p'
			AND conname = 'search_pkey'
			AND pg_get_constraintdef(oid) = 'PRIMARY KEY (eid, kid, value)'),
		(SELECT count(*) FROM pg_index WHERE indrelid IN (to_regclass('search'), to_regclass('relations'))),
		to_regclass('replay_stale') IS NOT NULL AND to_regclass('search_pending') IS NOT NULL
			AND to_regclass('relations_pending') IS NOT NULL`).Scan(&pkey, &indexes, &aside); err != nil {
		t.Fatal(err)
	}
	return pkey, indexes, aside
}

// entitiesIndexes lists the indexes of entities by name, a unique one
// followed by " unique" and one of another method than btree by its method
// in parentheses.
func entitiesIndexes(t *testing.T, s *pgcatalog.Store) string {
	t.Helper()
	var got string
	if err := s.Pool().QueryRow(context.Background(), `SELECT string_agg(c.relname
			|| CASE WHEN i.indisunique THEN ' unique' ELSE '' END
			|| CASE WHEN am.amname <> 'btree' THEN ' (' || am.amname || ')' ELSE '' END, ', ' ORDER BY c.relname)
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
		WHERE i.indrelid = to_regclass('entities')`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	return got
}

// entitiesAllIndexes are the indexes of entities outside a replay.
const entitiesAllIndexes = "entities_key unique, entities_kind_eid, entities_kind_name, entities_location, " +
	"entities_name_key, entities_namespace_eid, entities_pkey unique, entities_uid unique"

// countAside counts the rows a replay set aside.
func countAside(t *testing.T, s *pgcatalog.Store) (stale, search, relations int) {
	t.Helper()
	if err := s.Pool().QueryRow(context.Background(), `SELECT (SELECT count(*) FROM replay_stale),
		(SELECT count(*) FROM search_pending), (SELECT count(*) FROM relations_pending)`).Scan(&stale, &search, &relations); err != nil {
		t.Fatal(err)
	}
	return stale, search, relations
}

// described makes upserts of the first n components of storetest.Components,
// in partition 0 from position start+1, each with its description set to
// desc and its owner to team-desc (a search row and a relation row that
// differ between two descs).
func described(t *testing.T, start int64, n int, desc string) []event.Envelope {
	t.Helper()
	out := make([]event.Envelope, 0, n)
	for i := range n {
		body := storetest.ComponentBody(i, 40)
		body["metadata"].(map[string]any)["description"] = desc
		body["spec"].(map[string]any)["owner"] = "team-" + desc
		e, err := catalog.NewEntity(body)
		if err != nil {
			t.Fatal(err)
		}
		raw := e.JSON()
		ev, err := event.New(event.TypeEntityUpserted, e.Ref().Key(), event.EntityUpserted{
			Ref: e.Ref().String(), UID: fmt.Sprintf("uid-%d", i), Hash: catalog.HashJSON(raw), Entity: json.RawMessage(raw),
			LocationID: "L1", ManagedBy: "file:/catalog/all.yaml", OriginLocation: "file:/catalog/all.yaml",
		}, event.Meta{Actor: "location:L1"})
		if err != nil {
			t.Fatal(err)
		}
		ev.Position = start + int64(i) + 1
		out = append(out, ev)
	}
	return out
}

// TestAReplayFoldsWithoutTheSearchKeyAndBuildsItAtTheEnd checks that a replay
// folds search rows with no index on search, setting aside the rows of the
// entities it rewrites across batches (edits, removals), and entities with a
// hash index on key in place of entities_key; that EndBulk puts the rows set
// aside in place and builds the primary key and entities_key again, dropping
// the hash index, and that the tables equal those of a fold with every
// index; and that a store opened after a replay stopped part-way does the
// same.
func TestAReplayFoldsWithoutTheSearchKeyAndBuildsItAtTheEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	evs := storetest.History(t, 150, 5)
	// Then 30 components, each rewritten in later batches: to a first
	// description, to a second, back to the first, and to a second again.
	const n = 30
	evs = append(evs, storetest.Components(t, int64(len(evs)), n)...)
	for i, desc := range []string{"first", "second", "first", "second"} {
		evs = append(evs, described(t, int64(len(evs)), n-i*5, desc)...)
	}
	kept := openStore(t)
	storetest.ApplyInBatches(t, kept, evs, 7)

	url := pgtest.URL(t)
	s, err := pgcatalog.Open(ctx, url, pgcatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if pkey, n, aside := searchKeyState(t, s); !pkey || n != 5 || aside {
		t.Fatalf("a fresh store: search's primary key %v, %d indexes, set-aside tables %v; want search's two and relations' three", pkey, n, aside)
	}
	if got := entitiesIndexes(t, s); got != entitiesAllIndexes {
		t.Fatalf("a fresh store's indexes of entities: %s; want %s", got, entitiesAllIndexes)
	}
	if err := s.BeginReplay(ctx); err != nil {
		t.Fatal(err)
	}
	if pkey, n, aside := searchKeyState(t, s); pkey || n != 0 || !aside {
		t.Fatalf("in a replay: search's primary key %v, %d indexes, set-aside tables %v; want no index and the tables", pkey, n, aside)
	}
	if got, want := entitiesIndexes(t, s), "entities_key_replay (hash), entities_pkey unique"; got != want {
		t.Fatalf("in a replay, the indexes of entities: %s; want %s", got, want)
	}
	storetest.ApplyInBatches(t, s, evs, 7)
	// The history rewrites and removes entities in later batches than
	// those that made them: some rows were set aside.
	if stale, search, relations := countAside(t, s); stale == 0 || search == 0 || relations == 0 {
		t.Fatalf("the replay marked %d eids stale and set %d search and %d relation rows aside; the history rewrites entities, so want some of each", stale, search, relations)
	}
	if err := s.EndBulk(ctx); err != nil {
		t.Fatal(err)
	}
	if pkey, n, aside := searchKeyState(t, s); !pkey || n != 5 || aside {
		t.Fatalf("after EndBulk: search's primary key %v, %d indexes, set-aside tables %v; want search's two and relations' three", pkey, n, aside)
	}
	if got := entitiesIndexes(t, s); got != entitiesAllIndexes {
		t.Fatalf("after EndBulk, the indexes of entities: %s; want %s", got, entitiesAllIndexes)
	}
	want := storetest.PostgresTables(t, kept)
	if got := storetest.PostgresTables(t, s); got != want {
		t.Fatal("a replay without search's primary key folded other rows than a fold with it")
	}

	// A replay stopped part-way: the next store opened builds the key.
	url2 := pgtest.URL(t)
	stopped, err := pgcatalog.Open(ctx, url2, pgcatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer stopped.Close()
	if err := stopped.BeginReplay(ctx); err != nil {
		t.Fatal(err)
	}
	// One event a batch: entities are rewritten in many batches each.
	storetest.ApplyInBatches(t, stopped, evs[:len(evs)/2], 1)
	reopened, err := pgcatalog.Open(ctx, url2, pgcatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	if pkey, n, aside := searchKeyState(t, reopened); !pkey || n != 5 || aside {
		t.Fatalf("reopened after a stopped replay: search's primary key %v, %d indexes, set-aside tables %v; want search's two and relations' three", pkey, n, aside)
	}
	if got := entitiesIndexes(t, reopened); got != entitiesAllIndexes {
		t.Fatalf("reopened after a stopped replay, the indexes of entities: %s; want %s", got, entitiesAllIndexes)
	}
	storetest.ApplyInBatches(t, reopened, evs[len(evs)/2:], 7)
	if got := storetest.PostgresTables(t, reopened); got != want {
		t.Fatal("a replay stopped part-way and carried on folded other rows than one fold")
	}
}

// TestTheMergeOfSetAsideRowsProbesEntities checks that EndBulk's merge of the
// search rows a replay set aside finds the entities of those rows through
// entities_pkey, one probe per set-aside eid, instead of reading the whole
// entities table to hash it.
func TestTheMergeOfSetAsideRowsProbesEntities(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const n, rewritten = 4000, 200
	s := openStore(t)
	if err := s.BeginReplay(ctx); err != nil {
		t.Fatal(err)
	}
	evs := storetest.Components(t, 0, n)
	evs = append(evs, described(t, int64(len(evs)), rewritten, "first")...)
	storetest.ApplyInBatches(t, s, evs, n)
	if _, search, _ := countAside(t, s); search == 0 {
		t.Fatal("the replay set no search rows aside; the later batch rewrites components, so want some")
	}
	plan, err := pgcatalog.MergeSearchPlan(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plan, "Seq Scan on entities") || !strings.Contains(plan, "entities_pkey") {
		t.Fatalf("the merge reads entities whole instead of probing entities_pkey; plan:\n%s", plan)
	}
}
