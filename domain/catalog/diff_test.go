package catalog_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"backlot.dev/backlot/domain/catalog"
)

func decodeBody(t *testing.T, s string) map[string]any {
	t.Helper()
	if s == "" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDiff(t *testing.T) {
	t.Parallel()
	base := `{"kind":"Component","metadata":{"name":"a","uid":"1","etag":"x","tags":["go","web"],
		"annotations":{"backstage.io/x":"1","plain":"p"}},"spec":{"owner":"team-a","type":"service"}}`
	tests := []struct {
		name          string
		before, after string
		want          []catalog.FieldChange
	}{
		{"equal bodies", base, base, nil},
		{"uid and etag ignored", base,
			`{"kind":"Component","metadata":{"name":"a","uid":"2","etag":"y","tags":["go","web"],
			"annotations":{"backstage.io/x":"1","plain":"p"}},"spec":{"owner":"team-a","type":"service"}}`, nil},
		{"owner changed, tag appended, annotation removed", base,
			`{"kind":"Component","metadata":{"name":"a","tags":["go","web","new"],
			"annotations":{"plain":"p"}},"spec":{"owner":"team-b","type":"service","lifecycle":"production"}}`,
			[]catalog.FieldChange{
				{Path: `metadata.annotations["backstage.io/x"]`, Op: catalog.OpRemoved, Before: "1"},
				{Path: "metadata.tags[2]", Op: catalog.OpAdded, After: "new"},
				{Path: "spec.lifecycle", Op: catalog.OpAdded, After: "production"},
				{Path: "spec.owner", Op: catalog.OpChanged, Before: "team-a", After: "team-b"},
			}},
		{"list shortened and element changed", `{"a":[1,2,3]}`, `{"a":[1,5]}`,
			[]catalog.FieldChange{
				{Path: "a[1]", Op: catalog.OpChanged, Before: 2.0, After: 5.0},
				{Path: "a[2]", Op: catalog.OpRemoved, Before: 3.0},
			}},
		{"type change is one change", `{"spec":{"x":{"y":1}}}`, `{"spec":{"x":[1]}}`,
			[]catalog.FieldChange{{Path: "spec.x", Op: catalog.OpChanged, Before: map[string]any{"y": 1.0}, After: []any{1.0}}}},
		{"objects inside lists", `{"links":[{"url":"u","title":"a"}]}`, `{"links":[{"url":"u","title":"b"}]}`,
			[]catalog.FieldChange{{Path: "links[0].title", Op: catalog.OpChanged, Before: "a", After: "b"}}},
		{"created", "", `{"kind":"Group","metadata":{"name":"g","uid":"9"}}`,
			[]catalog.FieldChange{
				{Path: "kind", Op: catalog.OpAdded, After: "Group"},
				{Path: "metadata", Op: catalog.OpAdded, After: map[string]any{"name": "g", "uid": "9"}},
			}},
		{"removed", `{"kind":"Group"}`, "", []catalog.FieldChange{{Path: "kind", Op: catalog.OpRemoved, Before: "Group"}}},
		{"odd keys quoted", `{"":1,"a.b":2}`, `{"":1,"a.b":3}`,
			[]catalog.FieldChange{{Path: `["a.b"]`, Op: catalog.OpChanged, Before: 2.0, After: 3.0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := catalog.Diff(decodeBody(t, tc.before), decodeBody(t, tc.after))
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Diff =\n%#v\nwant\n%#v", got, tc.want)
			}
		})
	}
}

func TestDiffIsDeterministic(t *testing.T) {
	t.Parallel()
	before := map[string]any{}
	after := map[string]any{}
	for i := 0; i < 50; i++ {
		before[fmt.Sprintf("k%d", i)] = i
		after[fmt.Sprintf("k%d", i)] = i + 1
	}
	first := catalog.Diff(before, after)
	for i := 0; i < 20; i++ {
		if got := catalog.Diff(before, after); !reflect.DeepEqual(got, first) {
			t.Fatal("Diff gave a different order on the same input")
		}
	}
}

func ExampleDiff() {
	before := map[string]any{"spec": map[string]any{"owner": "team-a"}, "metadata": map[string]any{"tags": []any{"go"}}}
	after := map[string]any{"spec": map[string]any{"owner": "team-b"}, "metadata": map[string]any{"tags": []any{"go", "web"}}}
	for _, c := range catalog.Diff(before, after) {
		fmt.Println(c.Op, c.Path, c.Before, c.After)
	}
	// Output:
	// added metadata.tags[1] <nil> web
	// changed spec.owner team-a team-b
}
