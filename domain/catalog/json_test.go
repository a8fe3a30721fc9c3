package catalog

import (
	"encoding/json"
	"math"
	"testing"
)

func TestEncodeJSONMatchesMarshal(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		v    any
	}{
		{"body", map[string]any{
			"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
			"metadata": map[string]any{"name": "a", "tags": []any{"go", "x"}, "labels": map[string]any{"b": "1", "a": "2"}},
			"spec":     map[string]any{"owner": "team-a", "n": 3.0, "f": 1.5, "big": 1e21, "small": 1e-7, "zero": 0.0, "minus zero": math.Copysign(0, -1), "neg": -12.25},
		}},
		{"escapes", map[string]any{"html": "<b>&</b>", "quote": `say "hi"`, "slash": `a\b`, "utf8": "café ☕", "ls": "\u2028", "bad": "\xff", "ctl": "a\tb\x01"}},
		{"escaped keys", map[string]any{"<k>": 1, "é": 2, "\"": 3}},
		{"nulls", map[string]any{"nil": nil, "nil list": []any(nil), "empty list": []any{}, "empty map": map[string]any{}}},
		{"other types", map[string]any{"int": 7, "int64": int64(-9), "uint": uint(3), "strings": []string{"a", "<"}, "float32": float32(0.1), "bool": true}},
		{"top string", "plain"},
		{"top number", 42.0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, err := json.Marshal(c.v)
			if err != nil {
				t.Fatal(err)
			}
			got, err := EncodeJSON(c.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("EncodeJSON = %s\nwant          %s", got, want)
			}
		})
	}
	if _, err := EncodeJSON(map[string]any{"nan": math.NaN()}); err == nil {
		t.Error("a NaN encoded without an error, as json.Marshal refuses it")
	}
}

func FuzzEncodeJSON(f *testing.F) {
	f.Add([]byte(`{"a":[1,2.5,"x<y",null,true,{"b":"é"}],"c":1e300,"d":-0}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		want, _ := json.Marshal(v)
		got, err := EncodeJSON(v)
		if err != nil || string(got) != string(want) {
			t.Fatalf("EncodeJSON(%s) = %s, %v; want %s", data, got, err, want)
		}
	})
}
