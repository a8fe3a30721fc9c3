package catalog_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/catalog"
)

const component = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: %s
spec:
  type: service
  lifecycle: production
  owner: team-a
`

func TestParseDocumentsIsolatesBrokenDocuments(t *testing.T) {
	t.Parallel()
	data := fmt.Sprintf(component, "first") + "---\n" + "apiVersion: [unclosed\n" + "---\n" + fmt.Sprintf(component, "third")
	docs, err := catalog.ParseDocuments("catalog-info.yaml", []byte(data), catalog.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 3 {
		t.Fatalf("got %d documents, want 3", len(docs))
	}
	if docs[0].Err != nil || docs[2].Err != nil {
		t.Fatalf("good documents failed: %v / %v", docs[0].Err, docs[2].Err)
	}
	if docs[1].Err == nil {
		t.Fatal("broken document parsed")
	}
	msg := docs[1].Err.Error()
	for _, want := range []string{"catalog-info.yaml", "document 1", "line 10"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %q", msg, want)
		}
	}
	if docs[2].Body["metadata"].(map[string]any)["name"] != "third" {
		t.Fatalf("third document decoded wrong: %v", docs[2].Body)
	}
}

func TestParseDocumentsBounds(t *testing.T) {
	t.Parallel()
	// A billion-laughs document: each level references the one before ten times.
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	tests := []struct {
		name string
		data string
		lim  catalog.Limits
		file bool // the whole file is refused
	}{
		{"alias expansion", b.String(), catalog.Limits{}, false},
		{"file size", strings.Repeat("#", 2048), catalog.Limits{MaxFileBytes: 1024}, true},
		{"document count", strings.Repeat("a: 1\n---\n", 20), catalog.Limits{MaxDocuments: 10}, true},
		{"depth", strings.Repeat("[", 100) + strings.Repeat("]", 100), catalog.Limits{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			docs, err := catalog.ParseDocuments("bomb.yaml", []byte(tc.data), tc.lim)
			if tc.file {
				if !errors.Is(err, catalog.ErrTooLarge) {
					t.Fatalf("want ErrTooLarge for the file, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != 1 || docs[0].Err == nil {
				t.Fatalf("want one refused document, got %+v", docs)
			}
			if !errors.Is(docs[0].Err, catalog.ErrTooLarge) {
				t.Fatalf("want ErrTooLarge, got %v", docs[0].Err)
			}
		})
	}
}

func TestResolvePlaceholders(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"api.yaml": "openapi: 3.0.0\ninfo: {title: x}\n",
		"x.json":   `{"a": [1, 2]}`,
	}
	read := func(target string) ([]byte, string, error) {
		s, ok := files[target]
		if !ok {
			return nil, "", errors.New("no such file")
		}
		return []byte(s), "/abs/" + target, nil
	}
	body := map[string]any{"spec": map[string]any{
		"definition": map[string]any{"$text": "api.yaml"},
		"parsed":     map[string]any{"$yaml": "api.yaml"},
		"json":       map[string]any{"$json": "x.json"},
	}}
	out, err := catalog.ResolvePlaceholders(body, read, catalog.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	spec := out["spec"].(map[string]any)
	if spec["definition"] != files["api.yaml"] {
		t.Errorf("$text: got %v", spec["definition"])
	}
	if spec["parsed"].(map[string]any)["openapi"] != "3.0.0" {
		t.Errorf("$yaml: got %v", spec["parsed"])
	}
	if len(spec["json"].(map[string]any)["a"].([]any)) != 2 {
		t.Errorf("$json: got %v", spec["json"])
	}
	if _, isMap := body["spec"].(map[string]any)["definition"].(map[string]any); !isMap {
		t.Error("input body was modified")
	}

	_, err = catalog.ResolvePlaceholders(map[string]any{"spec": map[string]any{"d": map[string]any{"$text": "missing.yaml"}}}, read, catalog.Limits{})
	var fe *catalog.FieldError
	if !errors.As(err, &fe) || fe.Field != "spec.d" {
		t.Fatalf("want a FieldError on spec.d, got %v", err)
	}
	_, err = catalog.ResolvePlaceholders(map[string]any{"spec": map[string]any{"d": map[string]any{"$openapi": "x"}}}, read, catalog.Limits{})
	if err == nil || !strings.Contains(err.Error(), "unknown placeholder") {
		t.Fatalf("want unknown placeholder error, got %v", err)
	}
}

func TestNewEntityValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		yaml      string
		wantField string
	}{
		{"valid", fmt.Sprintf(component, "ok"), ""},
		{"missing owner", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: x}\nspec: {type: service, lifecycle: production}\n", "spec.owner"},
		{"unknown kind", "apiVersion: backstage.io/v1alpha1\nkind: Widget\nmetadata: {name: x}\n", "kind"},
		{"wrong version", "apiVersion: backstage.io/v9\nkind: Component\nmetadata: {name: x}\nspec: {type: s, lifecycle: p, owner: o}\n", "apiVersion"},
		{"bad namespace", "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: x, namespace: Big}\nspec: {type: team, children: []}\n", "metadata.namespace"},
		{"dependsOn needs kind", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: x}\nspec: {type: s, lifecycle: p, owner: o, dependsOn: [db]}\n", "spec.dependsOn[0]"},
		{"foreign root", "apiVersion: backstage.io/v1alpha1\nkind: Domain\nmetadata: {name: x}\nspec: {owner: o}\nextra: 1\n", "extra"},
		{"annotation value", "apiVersion: backstage.io/v1alpha1\nkind: Domain\nmetadata: {name: x, annotations: {a: 1}}\nspec: {owner: o}\n", "metadata.annotations.a"},
		{"link url", "apiVersion: backstage.io/v1alpha1\nkind: Domain\nmetadata: {name: x, links: [{title: t}]}\nspec: {owner: o}\n", "metadata.links[0].url"},
		{"group children", "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: x}\nspec: {type: team}\n", "spec.children"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			docs, err := catalog.ParseDocuments("x.yaml", []byte(tc.yaml), catalog.Limits{})
			if err != nil || docs[0].Err != nil {
				t.Fatal(err, docs[0].Err)
			}
			e, err := catalog.NewEntity(docs[0].Body)
			if tc.wantField == "" {
				if err != nil {
					t.Fatal(err)
				}
				if e.Ref().Namespace != "default" || e.Body()["metadata"].(map[string]any)["namespace"] != "default" {
					t.Fatalf("namespace not defaulted: %v", e.Body())
				}
				return
			}
			var ve *catalog.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want ValidationError, got %v", err)
			}
			found := false
			for _, f := range ve.Fields {
				found = found || f.Field == tc.wantField
			}
			if !found {
				t.Fatalf("error %v does not name %s", err, tc.wantField)
			}
		})
	}
}

// TestParseDocumentsReadsYAML12 reads scalars, duplicate keys and merge keys
// as YAML 1.2 and Backstage's reader do.
func TestParseDocumentsReadsYAML12(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, text string
		field      string // the field a broken document names; "" when it parses
		check      func(body map[string]any) bool
	}{
		{"underscores keep a string", "a: 1_000\nb: 0b101\nc: 1_0.5\nd: 12\n", "",
			func(b map[string]any) bool {
				return b["a"] == "1_000" && b["b"] == "0b101" && b["c"] == "1_0.5" && b["d"] == 12
			}},
		{"an explicit tag still decides", "a: !!int 1_000\n", "",
			func(b map[string]any) bool { return b["a"] == 1000 }},
		{"a merge key is a plain key", "base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\n", "",
			func(b map[string]any) bool {
				m := b["m"].(map[string]any)
				_, merged := m["x"]
				return !merged && m["y"] == 2 && fmt.Sprint(m["<<"]) == "map[x:1]"
			}},
		{"a duplicate key", "metadata:\n  name: a\n  name: b\n", "metadata.name", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			docs, err := catalog.ParseDocuments("f.yaml", []byte(c.text), catalog.Limits{})
			if err != nil || len(docs) != 1 {
				t.Fatalf("%d documents, %v", len(docs), err)
			}
			d := docs[0]
			if c.field != "" {
				var de *catalog.DocumentError
				if !errors.As(d.Err, &de) || de.Field != c.field || !strings.Contains(d.Err.Error(), "appears twice") {
					t.Fatalf("error %v, want one on %s", d.Err, c.field)
				}
				return
			}
			if d.Err != nil || !c.check(d.Body) {
				t.Fatalf("body %v, error %v", d.Body, d.Err)
			}
		})
	}
}
