package catalogstore

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// flatRows is the search table's rows of body as every list item's key was
// stored before item rows were marked: a row of its own, metadata.tags.java
// =true beside metadata.tags=java. It is the reference ExpandItems must give
// back.
func flatRows(body map[string]any) []SearchRecord {
	type id struct{ key, value string }
	seen := map[id]bool{}
	var rows []SearchRecord
	emit := func(key, s string, null bool) {
		if len(key) > maxSearchKey {
			return
		}
		r := SearchRecord{Key: key}
		if !null && len(s) <= maxSearchValue {
			r.Value = strings.ToLower(s)
			if r.Value != s {
				orig := s
				r.Original = &orig
			}
		}
		if seen[id{key, r.Value}] {
			return
		}
		seen[id{key, r.Value}] = true
		rows = append(rows, r)
	}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch t := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				if prefix == "" && (k == "relations" || k == "status") {
					continue
				}
				if prefix == "metadata" && (k == "uid" || k == "etag" || k == "namespace") {
					continue
				}
				child := strings.ToLower(k)
				if prefix != "" {
					child = prefix + "." + child
				}
				if ColumnKeys[child] {
					continue
				}
				walk(child, t[k])
			}
		case []any:
			for _, item := range t {
				walk(prefix, item)
				if str, ok := item.(string); ok && str != "" && len(str) <= maxSearchValue {
					emit(prefix+"."+strings.ToLower(str), "true", false)
				}
			}
		case string:
			emit(prefix, t, false)
		case bool:
			emit(prefix, strconv.FormatBool(t), false)
		case float64:
			emit(prefix, strconv.FormatFloat(t, 'f', -1, 64), false)
		case nil:
			emit(prefix, "", true)
		}
	}
	walk("", body)
	return rows
}

func rowSet(rows []SearchRecord) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		orig := "-"
		if r.Original != nil {
			orig = *r.Original
		}
		out[i] = fmt.Sprintf("%q=%q (%q)", r.Key, r.Value, orig)
	}
	slices.Sort(out)
	return out
}

// TestItemRowsStandForTheItemKeys checks that the rows appendSearch writes,
// with each Item row's key derived (ExpandItems), are the rows of the table
// that stored list items' keys as rows of their own, and that it writes
// fewer rows wherever a list holds strings.
func TestItemRowsStandForTheItemKeys(t *testing.T) {
	long := strings.Repeat("x", maxSearchValue+1)
	longKey := strings.Repeat("k", maxSearchKey-9) // spec.<longKey>.abc is the longest item key kept
	many := make([]any, 0, 3*linearDedupe)
	for i := range 3 * linearDedupe {
		many = append(many, fmt.Sprintf("T%d", i%(2*linearDedupe)))
	}
	tests := []struct {
		name  string
		body  map[string]any
		fewer int
	}{
		{"tags", map[string]any{"kind": "Component", "metadata": map[string]any{"name": "a", "tags": []any{"java", "Go"}}}, 2},
		{"a tag spelt twice", map[string]any{"metadata": map[string]any{"tags": []any{"Java", "java", "JAVA"}}}, 1},
		{"an item that is also a scalar value", map[string]any{"spec": map[string]any{"x": []any{map[string]any{"y": "a"}, map[string]any{"y": []any{"a"}}}}}, 1},
		{"an item key that is also a real key", map[string]any{"spec": map[string]any{"x": []any{map[string]any{"java": "true"}, "java"}}}, 0},
		{"an item with dots", map[string]any{"spec": map[string]any{"targets": []any{"./a.yaml", "b.c"}}}, 2},
		{"empty, long, null and non-string items", map[string]any{"spec": map[string]any{"l": []any{"", long, nil, true, 3.5, []any{"nested"}}}}, 1},
		{"a key at the length limit", map[string]any{"spec": map[string]any{longKey: []any{"ab", "abc", "abcd"}}}, 2},
		{"many items, past the linear dedupe", map[string]any{"metadata": map[string]any{"tags": many}}, 2 * linearDedupe},
		{"no lists", map[string]any{"kind": "Component", "spec": map[string]any{"type": "Service", "owner": "team-a"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			compact := appendSearch(nil, 0, tt.body)
			want := rowSet(flatRows(tt.body))
			if got := rowSet(ExpandItems(compact)); !slices.Equal(got, want) {
				t.Fatalf("expanded rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if d := len(want) - len(compact); d != tt.fewer {
				t.Fatalf("%d rows written for %d, want %d fewer", len(compact), len(want), tt.fewer)
			}
		})
	}
}

func TestItemKeys(t *testing.T) {
	got := ItemKeys("metadata.tags.a.b")
	want := []ItemSplit{{"metadata", "tags.a.b"}, {"metadata.tags", "a.b"}, {"metadata.tags.a", "b"}}
	if !slices.Equal(got, want) {
		t.Fatalf("ItemKeys = %v, want %v", got, want)
	}
	for _, k := range []string{"kind", "", "a.", ".a", strings.Repeat("a.", maxSearchKey)} {
		if s := ItemKeys(k); len(s) != 0 {
			t.Errorf("ItemKeys(%q) = %v, want none", k, s)
		}
	}
}

// TestSearchKeysAreSharedAcrossEntities checks that the entities of a run
// share the search keys the first made (one string for metadata.title, not
// one an entity), and that their rows are those each makes alone: keys of
// another case, other values and a full searchKeys change nothing.
func TestSearchKeysAreSharedAcrossEntities(t *testing.T) {
	body := func(name, title string) map[string]any {
		return map[string]any{
			"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
			"metadata": map[string]any{"name": name, "Title": title, "tags": []any{"Go", name},
				"annotations": map[string]any{"backstage.io/Source": "url:" + name}},
			"spec": map[string]any{"type": "service", "owner": "team-" + name, "dependsOn": []any{"Component:x", "component:x"}},
		}
	}
	sk := newSearchKeys()
	first := appendSearchKeys(nil, 1, body("a", "A"), sk)
	second := appendSearchKeys(nil, 2, body("b", "B"), sk)
	if want := appendSearch(nil, 2, body("b", "B")); !slices.Equal(searchStrings(second), searchStrings(want)) {
		t.Errorf("rows with shared keys\n%v\nwant\n%v", searchStrings(second), searchStrings(want))
	}
	keyOf := func(rows []SearchRecord, key string) string {
		for _, r := range rows {
			if r.Key == key {
				return r.Key
			}
		}
		t.Fatalf("no row of %s", key)
		return ""
	}
	for _, key := range []string{"metadata.title", "spec.owner", "metadata.annotations.backstage.io/source"} {
		if unsafe.StringData(keyOf(first, key)) != unsafe.StringData(keyOf(second, key)) {
			t.Errorf("%s: the second entity made its own copy of the key", key)
		}
	}

	full := &searchKeys{m: map[[2]string]string{}}
	for i := range maxSearchKeys {
		full.m[[2]string{"x", strconv.Itoa(i)}] = "x." + strconv.Itoa(i)
	}
	if got, want := appendSearchKeys(nil, 3, body("c", "C"), full), appendSearch(nil, 3, body("c", "C")); !slices.Equal(searchStrings(got), searchStrings(want)) {
		t.Errorf("rows with a full searchKeys\n%v\nwant\n%v", searchStrings(got), searchStrings(want))
	}
	if len(full.m) != maxSearchKeys {
		t.Errorf("a full searchKeys grew to %d keys", len(full.m))
	}
}

// searchStrings prints rows for comparison.
func searchStrings(rows []SearchRecord) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		orig := "<nil>"
		if r.Original != nil {
			orig = *r.Original
		}
		out[i] = fmt.Sprintf("%d %s=%s (%s) item=%v", r.EID, r.Key, r.Value, orig, r.Item)
	}
	return out
}

// TestColumnKeysHaveNoCatalogRows checks that the catalog's search rows
// leave out kind and metadata.name, in any spelling of their keys, which the
// entities table holds as columns, and that the rows the history's catalog
// at an instant stores (searchRows) keep them.
func TestColumnKeysHaveNoCatalogRows(t *testing.T) {
	body := map[string]any{
		"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
		"metadata": map[string]any{"name": "Checkout", "Name": "other", "title": "Checkout"},
		"spec":     map[string]any{"kind": "service", "metadata": map[string]any{"name": "nested"}},
	}
	keys := func(rows []SearchRecord) []string {
		var out []string
		for _, r := range rows {
			out = append(out, r.Key+"="+r.Value)
		}
		slices.Sort(out)
		return out
	}
	want := []string{"apiversion=backstage.io/v1alpha1", "metadata.title=checkout", "spec.kind=service", "spec.metadata.name=nested"}
	if got := keys(appendSearch(nil, 1, body)); !slices.Equal(got, want) {
		t.Errorf("catalog rows %v, want %v", got, want)
	}
	if got := keys(appendSearchKeys(nil, 1, body, newSearchKeys())); !slices.Equal(got, want) {
		t.Errorf("catalog rows with shared keys %v, want %v", got, want)
	}
	var hist []SearchRecord
	for _, r := range searchRows(body) {
		hist = append(hist, SearchRecord{Key: r.Key, Value: r.Value})
	}
	wantHist := append([]string{"kind=component", "metadata.name=checkout", "metadata.name=other"}, want...)
	slices.Sort(wantHist)
	if got := keys(hist); !slices.Equal(got, wantHist) {
		t.Errorf("history rows %v, want %v", got, wantHist)
	}
}
