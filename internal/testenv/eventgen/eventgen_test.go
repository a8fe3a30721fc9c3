package eventgen

import "testing"

func TestUpsertsEditAndRemove(t *testing.T) {
	v1, err := Upserts("x", 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := Upserts("x", 5, 2)
	for i := range v1 {
		if v1[i].Subject != v2[i].Subject || string(v1[i].Data) == string(v2[i].Data) {
			t.Fatalf("version 2 of %s is not an edit of version 1", v1[i].Subject)
		}
		if err := v1[i].Validate(); err != nil {
			t.Fatal(err)
		}
	}
	rm, _ := Removals("x", 3)
	if len(rm) != 1 || rm[0].Subject != v1[3].Subject {
		t.Fatalf("removal of %v", rm)
	}
}
