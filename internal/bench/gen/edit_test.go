package gen

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

func byRef(root entity, files []catalogFile) map[string]entity {
	m := map[string]entity{}
	for _, e := range allEntities(root, files) {
		m[refOf(e)] = e
	}
	return m
}

func TestEdit(t *testing.T) {
	t.Parallel()
	cfg := Config{Entities: 1000, Seed: 9, EntitiesPerFile: 50}
	dir, _ := generate(t, cfg)
	before := byRef(readCatalog(t, dir))

	picks, err := Picks(dir, 3, 12)
	if err != nil {
		t.Fatal(err)
	}
	if after := byRef(readCatalog(t, dir)); !reflect.DeepEqual(after, before) {
		t.Fatal("Picks changed the catalog")
	}
	refs, err := Edit(dir, 3, 12)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(picks, refs) {
		t.Fatalf("Picks named %v, Edit edited %v", picks, refs)
	}
	if len(refs) != 12 {
		t.Fatalf("Edit returned %d refs, want 12", len(refs))
	}
	after := byRef(readCatalog(t, dir))
	if len(after) != len(before) {
		t.Fatalf("catalog had %d entities, has %d after Edit", len(before), len(after))
	}
	edited := map[string]bool{}
	for _, r := range refs {
		if edited[r] {
			t.Errorf("Edit returned %s twice", r)
		}
		edited[r] = true
		b, a := before[r], after[r]
		if b == nil || str(b, "kind") != "Component" {
			t.Fatalf("Edit returned %s, which is not a component of the catalog", r)
		}
		if str(a, "spec", "lifecycle") == str(b, "spec", "lifecycle") {
			t.Errorf("%s: lifecycle still %s", r, str(a, "spec", "lifecycle"))
		}
		if str(a, "spec", "owner") == str(b, "spec", "owner") {
			t.Errorf("%s: owner still %s", r, str(a, "spec", "owner"))
		}
		if owner, _ := resolve(str(a, "spec", "owner"), "group"); after[owner] == nil {
			t.Errorf("%s: new owner %s is not in the catalog", r, owner)
		}
		// Nothing else changed.
		a2, b2 := copySpec(a), copySpec(b)
		if !reflect.DeepEqual(a2, b2) {
			t.Errorf("%s: Edit changed more than lifecycle and owner:\n%v\n%v", r, b2, a2)
		}
	}
	for r, b := range before {
		if !edited[r] && !reflect.DeepEqual(b, after[r]) {
			t.Errorf("%s changed, but Edit did not return it", r)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".edit-*")); len(left) > 0 {
		t.Errorf("Edit left temporary files %v", left)
	}

	// The same seed on a fresh copy makes the same edit.
	dir2, _ := generate(t, cfg)
	refs2, err := Edit(dir2, 3, 12)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(refs, refs2) {
		t.Errorf("same seed edited %v, then %v", refs, refs2)
	}
	if diff := compareDirs(t, dir, dir2); diff != "" {
		t.Errorf("same seed, different edit: %s", diff)
	}
}

// copySpec returns e without spec.lifecycle and spec.owner.
func copySpec(e entity) entity {
	out := entity{}
	for k, v := range e {
		out[k] = v
	}
	spec := map[string]any{}
	for k, v := range e["spec"].(map[string]any) {
		if k != "lifecycle" && k != "owner" {
			spec[k] = v
		}
	}
	out["spec"] = spec
	return out
}

func TestEditAllAndNone(t *testing.T) {
	t.Parallel()
	dir, s := generate(t, Config{Entities: 40, Seed: 1, EntitiesPerFile: 7})
	refs, err := Edit(dir, 1, 0)
	if err != nil || len(refs) != 0 {
		t.Fatalf("Edit(k=0) = %v, %v", refs, err)
	}
	n := s.ByKind["Component"]
	refs, err = Edit(dir, 1, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != n {
		t.Errorf("Edit(k=%d) returned %d refs", n, len(refs))
	}
}

func TestEditErrors(t *testing.T) {
	t.Parallel()
	dir, s := generate(t, Config{Entities: 100, Seed: 1})
	tests := []struct {
		name string
		dir  string
		k    int
	}{
		{name: "too many", dir: dir, k: s.ByKind["Component"] + 1},
		{name: "negative", dir: dir, k: -1},
		{name: "no manifest", dir: t.TempDir(), k: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Edit(tt.dir, 1, tt.k); err == nil {
				t.Errorf("Edit(k=%d) succeeded, want an error", tt.k)
			}
		})
	}

	// A file that lost its component fails the edit and names the file.
	broken, _ := generate(t, Config{Entities: 100, Seed: 1})
	if err := os.WriteFile(filepath.Join(broken, fileName(0)), []byte("---\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Edit(broken, 1, 60); err == nil {
		t.Error("Edit of a truncated file succeeded, want an error")
	}
}
