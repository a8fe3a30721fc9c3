package catalogstore_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// generalRows is what NewEntityRows stores for ent, as rows of eid, without
// the search rows of the ColumnKeys, which the catalog does not store.
func generalRows(t testing.TB, ent *catalog.Entity, eid int64, uid, hash string) (catalogstore.EntityRows, []catalogstore.SearchRecord, []catalogstore.RelationRecord) {
	t.Helper()
	r, err := catalogstore.NewEntityRows(ent, uid, hash)
	if err != nil {
		t.Fatal(err)
	}
	search := make([]catalogstore.SearchRecord, 0, len(r.Search))
	for _, s := range r.Search {
		if catalogstore.ColumnKeys[s.Key] {
			continue // the catalog's search table leaves them to the entities table
		}
		search = append(search, catalogstore.SearchRecord{EID: eid, Key: s.Key, Value: s.Value, Original: s.Original})
	}
	rels := make([]catalogstore.RelationRecord, len(r.Relations))
	for i, x := range r.Relations {
		rels[i] = catalogstore.RelationRecord{Origin: eid, Type: x.Type, LType: strings.ToLower(x.Type), Target: x.Target,
			TargetRef: x.TargetRef, Reverse: x.Reverse, LReverse: strings.ToLower(x.Reverse)}
	}
	r.Search, r.Relations = nil, nil
	return r, search, rels
}

// TestFoldRowsAreTheGeneralPathsRows checks that the rows the fold builds
// from an upsert's bytes (decodeUpsertData, storedJSON) are byte for byte
// those of the general path (json.Unmarshal, StoredBody, EncodeJSON,
// NewEntityRows), over every upsert of a catalog's history and of the bench's
// components, and that the bytes were used for the components.
func TestFoldRowsAreTheGeneralPathsRows(t *testing.T) {
	evs := append(storetest.History(t, 600, 1), storetest.Components(t, 0, 200)...)
	fast, upserts := 0, 0
	for i := range evs {
		ev := &evs[i]
		if ev.Type != string(event.TypeEntityUpserted) {
			continue
		}
		upserts++
		p, err := catalogstore.DecodePayload(ev)
		if err != nil {
			t.Fatal(err)
		}
		var want event.EntityUpserted
		if err := ev.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*p.Upsert, want) {
			t.Fatalf("event %d: payload %+v, json.Unmarshal gives %+v", i, *p.Upsert, want)
		}
		if _, ok := catalogstore.StoredJSON(p.Upsert.Entity, p.Upsert.UID, p.Upsert.Hash); ok {
			fast++
		}
		for _, raw := range [][]byte{p.Upsert.Entity, nil} {
			rows, search, rels, err := catalogstore.BuiltRows(p, raw, int64(i), p.Upsert.UID, p.Upsert.Hash)
			if err != nil {
				t.Fatal(err)
			}
			wr, ws, wrel := generalRows(t, p.Entity, int64(i), p.Upsert.UID, p.Upsert.Hash)
			if !reflect.DeepEqual(rows, wr) {
				t.Fatalf("event %d (%s): rows\n%s\nwant\n%s", i, ev.Subject, rows.Body, wr.Body)
			}
			if !reflect.DeepEqual(catalogstore.ExpandItems(search), ws) || !reflect.DeepEqual(rels, wrel) {
				t.Fatalf("event %d (%s): search or relation rows differ", i, ev.Subject)
			}
		}
	}
	if upserts < 800 || fast < upserts*9/10 {
		t.Fatalf("%d of %d upserts written from their bytes; want nearly all", fast, upserts)
	}
}

// storedBodyEdges are entity bodies at the edges of what storedJSON writes
// itself: each must give the general path's bytes or be left to it.
var storedBodyEdges = []string{
	`{"apiVersion":"v1","kind":"Component","metadata":{"name":"a","namespace":"default"},"spec":{"owner":"x"}}`,
	`{"apiVersion":"v1","kind":"Component","metadata":{"name":"a"},"spec":{"owner":"x"}}`,
	`{"apiVersion":"v1","kind":"Component","metadata":{"name":"a","namespace":""}}`,
	`{"apiVersion":"v1","kind":"Component","metadata":{"etag":"old","name":"a","namespace":"ns","uid":"old"}}`,
	`{"apiVersion":"v1","kind":"Component","metadata":{"":1,"a":2,"name":"a","namespace":"ns","z":[]}}`,
	`{"apiVersion":"v1","kind":"Component","metadata":{"name":"a","namespace":"ns"},"relations":[{"type":"x"}],"status":{"items":[]}}`,
	`{"kind":"Component", "metadata":{"name":"a","namespace":"ns"}}`,
	`{"metadata":{"name":"a","namespace":"ns"},"kind":"Component"}`,
	`{"kind":"Component","kind":"API","metadata":{"name":"a","namespace":"ns"}}`,
	`{"kind":"Component","metadata":{"name":"a","namespace":"ns","n":[1,1.5,-0,0.000001,1e21,1E3,10,1.0,-2,100000000000000000000]}}`,
	`{"kind":"Component","metadata":{"name":"a","namespace":"ns","s":"x<y","t":"\u00e9","u":"é","v":"a\"b"}}`,
	`{"kind":"Component","metadata":{"name":"a","namespace":"ns","b":[true,false,null,{},[]]}}`,
	`{"kind":"Component","metadata":{"name":"a","namespace":"ns","deep":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}`,
	`{"kind":"Component","metadata":{"name":"a","namespace":"ns"},"zz":{"b":1,"a":2}}`,
}

// checkStoredJSON fails when storedJSON writes raw other than the general path.
func checkStoredJSON(t *testing.T, raw []byte, uid string) {
	body, err := catalog.DecodeJSONObject(raw)
	if err != nil {
		return
	}
	ent, err := catalog.LoadEntity(body)
	if err != nil {
		return
	}
	got, ok := catalogstore.StoredJSON(raw, uid, "h")
	if !ok {
		return
	}
	want, err := catalog.EncodeJSON(catalogstore.StoredBody(ent, uid, "h"))
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	if string(got) != string(want) {
		t.Fatalf("stored JSON of %s (uid %q):\n%s\nwant\n%s", raw, uid, got, want)
	}
}

func TestStoredJSONEdges(t *testing.T) {
	wrote := 0
	for _, b := range storedBodyEdges {
		checkStoredJSON(t, []byte(b), "u-1")
		if _, ok := catalogstore.StoredJSON([]byte(b), "u-1", "h"); ok {
			wrote++
		}
	}
	if wrote < 3 || wrote == len(storedBodyEdges) {
		t.Fatalf("storedJSON wrote %d of %d edge bodies itself; want some, not all", wrote, len(storedBodyEdges))
	}
}

func FuzzStoredJSON(f *testing.F) {
	for _, b := range storedBodyEdges {
		f.Add([]byte(b), "u-1")
	}
	f.Add([]byte(storedBodyEdges[0]), `q"`)
	f.Fuzz(func(t *testing.T, raw []byte, uid string) { checkStoredJSON(t, raw, uid) })
}

// upsertDataEdges are upsert payloads at the edges of what decodeUpsertData reads.
var upsertDataEdges = []string{
	`{"ref":"component:default/a","uid":"u","hash":"h","entity":{"kind":"Component","metadata":{"name":"a"}},"locationId":"L1","managedBy":"m","originLocation":"o"}`,
	` { "ref" : "r" , "entity" : {"a":"}"} } `,
	`{"ref":"r","entity":{"a":1},"commit":{"sha":"s"}}`,
	`{"REF":"r","entity":{}}`,
	`{"ref":"r\u0041","entity":{}}`,
	`{"ref":null,"entity":{}}`,
	`{"ref":"r","entity":null}`,
	`{"ref":"r"}`,
	`{"ref":"a","ref":"b","entity":{"x":[1,{"y":"]"}]},"entity":{"z":2}}`,
	`{"ref":"r","entity":{"a":1}} x`,
	`{"ref":"r","entity":{"a":"\"}"}}`,
	`{"ref":"r","entity":{"a":1},}`,
	`{"ref":"r","entity":{"a":[}}`,
}

// checkUpsertData fails when decodeUpsertData reads data other than json.Unmarshal.
func checkUpsertData(t *testing.T, data []byte) {
	got, ok := catalogstore.DecodeUpsertData(data)
	if !ok {
		return
	}
	var want event.EntityUpserted
	if err := json.Unmarshal(data, &want); err != nil {
		// The entity's bytes are validated by the body's decoder afterwards.
		if _, derr := catalog.DecodeJSONObject(got.Entity); derr == nil {
			t.Fatalf("%s: read, and its entity decodes, but json.Unmarshal fails: %v", data, err)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: read %+v, json.Unmarshal gives %+v", data, got, want)
	}
}

func TestDecodeUpsertDataEdges(t *testing.T) {
	read := 0
	for _, d := range upsertDataEdges {
		checkUpsertData(t, []byte(d))
		if _, ok := catalogstore.DecodeUpsertData([]byte(d)); ok {
			read++
		}
	}
	if read < 3 || read == len(upsertDataEdges) {
		t.Fatalf("read %d of %d edge payloads; want some, not all", read, len(upsertDataEdges))
	}
}

func FuzzDecodeUpsertData(f *testing.F) {
	for _, d := range upsertDataEdges {
		f.Add([]byte(d))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkUpsertData(t, data) })
}

// TestSearchRowsOnceEachInLongLists checks that an entity's search rows name
// each key and value once, the first spelling winning, past the number of
// rows appendSearch checks by a scan (where it keeps a map instead).
func TestSearchRowsOnceEachInLongLists(t *testing.T) {
	var tags []any
	for _, spell := range []string{"t%d", "T%d", "t%d"} {
		for i := range 100 {
			tags = append(tags, fmt.Sprintf(spell, i))
		}
	}
	ent, err := catalog.LoadEntity(map[string]any{"apiVersion": "v1", "kind": "Component",
		"metadata": map[string]any{"name": "a", "namespace": "default", "tags": tags}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := catalogstore.NewEntityRows(ent, "u", "h")
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, s := range r.Search {
		count[s.Key+"="+s.Value]++
		if s.Key == "metadata.tags" && s.Original != nil {
			t.Fatalf("tag row %s keeps %q: the first spelling, in lower case, wins", s.Value, *s.Original)
		}
	}
	for i := range 100 {
		if n := count[fmt.Sprintf("metadata.tags=t%d", i)]; n != 1 {
			t.Fatalf("tag t%d: %d rows, want 1", i, n)
		}
		if n := count[fmt.Sprintf("metadata.tags.t%d=true", i)]; n != 1 {
			t.Fatalf("key metadata.tags.t%d: %d rows, want 1", i, n)
		}
	}
	if len(r.Search) != 200+3 { // apiversion, kind, metadata.name
		t.Fatalf("%d search rows, want 203", len(r.Search))
	}
}
