package gen

import (
	"encoding/json"
	"testing"

	"backlot.dev/backlot/domain/event"
)

func TestComponentUpsertsEditAndRemove(t *testing.T) {
	v1, err := ComponentUpserts(1, 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := ComponentUpserts(1, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(v1) != 5 || len(v2) != 5 {
		t.Fatalf("got %d and %d events, want 5 each", len(v1), len(v2))
	}
	seen := map[string]bool{}
	for i := range v1 {
		if v1[i].Subject != v2[i].Subject || string(v1[i].Data) == string(v2[i].Data) {
			t.Fatalf("version 2 of %s is not an edit of version 1", v1[i].Subject)
		}
		if err := v1[i].Validate(); err != nil {
			t.Fatal(err)
		}
		if seen[v1[i].Subject] {
			t.Fatalf("subject %s twice", v1[i].Subject)
		}
		seen[v1[i].Subject] = true
		var d1, d2 event.EntityUpserted
		if err := json.Unmarshal(v1[i].Data, &d1); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(v2[i].Data, &d2); err != nil {
			t.Fatal(err)
		}
		if d1.UID != d2.UID || d1.Hash == d2.Hash {
			t.Fatalf("component %d: uids %q, %q and hashes %q, %q: want one uid and two hashes", i, d1.UID, d2.UID, d1.Hash, d2.Hash)
		}
	}
	rm, err := ComponentRemovals(1, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(rm) != 1 || rm[0].Subject != v1[3].Subject || rm[0].Type != string(event.TypeEntityRemoved) {
		t.Fatalf("removal of component 3: %+v, want subject %s", rm, v1[3].Subject)
	}
	if _, err := ComponentRemovals(1, -1); err == nil {
		t.Fatal("ComponentRemovals of a negative index succeeded")
	}
}

// TestComponentUpsertsNameAsGenerate checks that the events and the files of a
// catalog of one seed name a component alike: one set of names for both.
func TestComponentUpsertsNameAsGenerate(t *testing.T) {
	dir := t.TempDir()
	if _, err := Generate(dir, Config{Entities: 200, Seed: 9}); err != nil {
		t.Fatal(err)
	}
	evs, err := ComponentUpserts(9, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, files := readCatalog(t, dir)
	components := map[string]string{} // name -> spec.type
	for _, f := range files {
		for _, e := range f.entities {
			if e["kind"] == "Component" {
				components[dig(e, "metadata", "name").(string)] = dig(e, "spec", "type").(string)
			}
		}
	}
	for _, ev := range evs {
		var d event.EntityUpserted
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatal(err)
		}
		var body struct {
			Metadata struct{ Name string }
			Spec     struct{ Type string }
		}
		if err := json.Unmarshal(d.Entity, &body); err != nil {
			t.Fatal(err)
		}
		typ, ok := components[body.Metadata.Name]
		if !ok {
			t.Errorf("component %s of the events is not in the generated files", body.Metadata.Name)
		} else if typ != body.Spec.Type {
			t.Errorf("component %s: spec.type %s in the events, %s in the files", body.Metadata.Name, body.Spec.Type, typ)
		}
	}
}
