package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/projections/catalogstore"
)

// randomBody is an entity body of a random kind whose metadata, spec and
// other members hold random values, with references (in every spelling:
// short, full, another case, repeated, broken) in the spec fields that make
// relations.
func randomBody(r *rand.Rand) map[string]any {
	kinds := []string{"Component", "API", "Resource", "System", "Domain", "Group", "User", "Location", "Template", "Mystery"}
	refs := []string{"team-a", "Team-A", "group:team-a", "group:default/Team-A", "group:other/x", "user:ada", "component:svc-1",
		"Svc-1", "system:Sys", "sys", "api:default/Pay", "resource:db", "domain:d", "", ":x", "a/", "c:ns/n:m", " padded "}
	md := map[string]any{"name": fmt.Sprintf("e-%d", r.IntN(1000))}
	switch r.IntN(5) {
	case 0:
		md["namespace"] = "Ns-" + fmt.Sprint(r.IntN(3))
	case 1:
		md["namespace"] = ""
	case 2:
		md["namespace"] = 7.0
	}
	if r.IntN(3) == 0 {
		md["uid"], md["etag"] = "old-uid", "old-etag"
	}
	for range r.IntN(4) {
		md[awkwardStrings[r.IntN(len(awkwardStrings))]] = randomValue(r, 2)
	}
	spec := map[string]any{}
	for _, f := range []string{"owner", "system", "domain", "dependsOn", "providesApis", "consumesApis", "memberOf", "children", "parent", "members", "subcomponentOf", "dependencyOf", "type", "lifecycle"} {
		switch r.IntN(4) {
		case 0:
			spec[f] = refs[r.IntN(len(refs))]
		case 1:
			list := []any{}
			for range r.IntN(4) {
				if r.IntN(6) == 0 {
					list = append(list, 3.0)
				} else {
					list = append(list, refs[r.IntN(len(refs))])
				}
			}
			spec[f] = list
		}
	}
	for range r.IntN(3) {
		spec[awkwardStrings[r.IntN(len(awkwardStrings))]] = randomValue(r, 2)
	}
	body := map[string]any{"apiVersion": "backstage.io/v1alpha1", "kind": kinds[r.IntN(len(kinds))], "metadata": md, "spec": spec}
	if r.IntN(4) == 0 {
		body["relations"] = []any{map[string]any{"type": "x", "targetRef": "y"}}
	}
	if r.IntN(4) == 0 {
		body["status"] = map[string]any{"items": []any{}}
	}
	for range r.IntN(3) {
		body[awkwardStrings[r.IntN(len(awkwardStrings))]] = randomValue(r, 2)
	}
	return body
}

// TestTreeWritesWhatTheStoredBodyWrites holds the tree's path to the
// decoded one on random bodies, each as canonical JSON and as json.Marshal
// writes it (escapes for <, > and &): the file written from the tree is the
// one written from catalogstore.StoredBody of catalog.LoadEntity of the
// decoded body (and so yaml.v3's, which the map writer is held to), and the
// relation rows read from the tree are those of Entity.Relations. Most
// bodies must take the tree's path, so the comparison is not vacuous.
func TestTreeWritesWhatTheStoredBodyWrites(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 17))
	var tree jsonTree
	written, rowsRead, cases, mapWritten := 0, 0, 0, 0
	for i := range 4000 {
		body := randomBody(r)
		canon, err := catalog.EncodeJSON(body)
		if err != nil {
			t.Fatal(err)
		}
		marshalled, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range [][]byte{canon, marshalled} {
			cases++
			decoded, err := catalog.DecodeJSONObject(raw)
			if err != nil {
				t.Fatal(err)
			}
			ent, err := catalog.LoadEntity(decoded)
			if err != nil {
				// The tree must refuse it too, so the decoded path names it.
				if tree.parse(raw) {
					if _, _, _, ok := treeRef(&tree); ok {
						t.Fatalf("body %s: LoadEntity fails (%v), the tree reads a ref", raw, err)
					}
				}
				continue
			}
			key := ent.Ref().Key()
			uid, hash := fmt.Sprintf("uid-%d", i), catalog.HashJSON(raw)
			rels := []catalogstore.Relation{{Type: "ownedBy", TargetRef: "group:default/team-a"}, {Type: "partOf", TargetRef: "system:default/Sys"}}[:r.IntN(3)]
			want := yamlWriter{}
			wantOK := want.mapFile(catalogstore.StoredBody(ent, uid, hash), rels)
			if wantOK {
				mapWritten++
			}

			if !tree.parse(raw) {
				continue
			}
			ref, md, ns, ok := treeRef(&tree)
			if !ok || ref.Key() != key {
				t.Fatalf("body %s: tree ref %v (%v), want %s", raw, ref, ok, key)
			}
			got := yamlWriter{}
			if got.treeFile(&tree, md, storedFields{namespace: ns, uid: uid, etag: catalogstore.ETag(hash, uid)}, rels) {
				if !wantOK {
					t.Fatalf("body %s: the tree wrote\n%s\nthe map writer could not", raw, got.buf)
				}
				if !bytes.Equal(got.buf, want.buf) {
					t.Fatalf("body %s: the tree wrote\n%s\nthe map writer\n%s", raw, got.buf, want.buf)
				}
				written++
			}

			// Every entity is its own index 0, and every target key is an
			// entity of index 1 + its place among the targets.
			index := map[string]int32{key: 0}
			for _, rel := range ent.Relations() {
				if _, ok := index[rel.Source.Key()]; !ok {
					index[rel.Source.Key()] = int32(len(index))
				}
			}
			ents := make(map[string]*replayEntity, len(index))
			for k, i := range index {
				ents[k] = &replayEntity{idx: i}
			}
			gotRows, ok := treeRows(&tree, key, 0, ents, nil)
			if !ok {
				t.Fatalf("body %s: treeRows refused it", raw)
			}
			var wantRows []relationRow
			for _, rel := range ent.Relations() {
				wantRows = append(wantRows, relationRow{src: index[rel.Source.Key()], typ: rel.Type, target: rel.Target.Key(), targetRef: rel.Target.String()})
			}
			if !sameRows(gotRows, wantRows) {
				t.Fatalf("body %s:\nrows %v\nwant %v", raw, gotRows, wantRows)
			}
			rowsRead++
		}
	}
	// The map writer leaves strings of several lines it cannot write as a
	// literal block to yaml.v3, and so does the tree's.
	if written < mapWritten*9/10 || rowsRead < cases*9/10 {
		t.Errorf("the tree wrote %d bodies of the %d the map writer wrote and read the relations of %d of %d; want nearly all", written, mapWritten, rowsRead, cases)
	}
}

// sameRows reports whether a and b hold the same rows, in any order.
func sameRows(a, b []relationRow) bool {
	key := func(x relationRow) string {
		return strings.Join([]string{fmt.Sprint(x.src), x.typ, x.target, x.targetRef}, "\x00")
	}
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i, x := range a {
		ka[i] = key(x)
	}
	for i, x := range b {
		kb[i] = key(x)
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}

// TestTreeRefusesWhatItDoesNotReadAsEncodingJSON: repeated keys and invalid
// UTF-8 go to the decoded path; escapes are decoded as encoding/json does.
func TestTreeRefusesWhatItDoesNotReadAsEncodingJSON(t *testing.T) {
	t.Parallel()
	var tree jsonTree
	for _, raw := range []string{
		`{"kind":"Component","kind":"API","metadata":{"name":"a"}}`,
		`{"kind":"Component","metadata":{"name":"a","name":"b"}}`,
		"{\"kind\":\"Component\",\"metadata\":{\"name\":\"a\xff\"}}",
		`{"kind":"Component","metadata":{"name":"a"}} x`,
		`{"kind":"Component","metadata":{"name":"a"}`,
		`["kind"]`,
	} {
		if tree.parse([]byte(raw)) {
			t.Errorf("parse(%s) = true, want false", raw)
		}
	}
	if !tree.parse([]byte(`{"a\u0062":"x\ny\u00e9\"","kind":"Component"}`)) {
		t.Fatal("parse refused escapes")
	}
	if k := tree.nodes[tree.children(0)[0]].key; k != "ab" {
		t.Errorf("escaped key = %q, want ab", k)
	}
	if s := tree.nodes[tree.member(0, "ab")].str; s != "x\nyé\"" {
		t.Errorf("escaped string = %q", s)
	}
}
