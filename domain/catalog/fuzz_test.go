package catalog_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"backlot.dev/backlot/domain/catalog"
)

// fuzzLimits are small enough that a hostile input hits them quickly, so the
// fuzzer spends its time on the parser rather than on huge documents.
var fuzzLimits = catalog.Limits{MaxFileBytes: 64 << 10, MaxDocuments: 64, MaxNodes: 4096, MaxDepth: 32}

// FuzzParseDocuments feeds arbitrary bytes to ParseDocuments and NewEntity:
// neither may panic, every refused document carries a *DocumentError naming
// the file, and an accepted entity survives a round trip (its canonical JSON,
// parsed again, gives an entity with the same body).
func FuzzParseDocuments(f *testing.F) {
	f.Add([]byte(fmt.Sprintf(component, "seed")))
	f.Add([]byte(fmt.Sprintf(component, "a") + "---\napiVersion: [unclosed\n---\n" + fmt.Sprintf(component, "b")))
	f.Add([]byte(`{"apiVersion":"backstage.io/v1alpha1","kind":"Group","metadata":{"name":"team-a"},"spec":{"type":"team","children":[]}}`))
	f.Add([]byte("a: &a [*a, *a]\nb: &b [*a, *a]\nc: [*b, *b, *b]\n"))
	f.Add([]byte("apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: x, annotations: {a: '1'}}\nspec: {type: openapi, lifecycle: x, owner: y, definition: '{}'}\n"))
	f.Add([]byte("--- \n...\n%YAML 1.2\n---\n- 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, err := catalog.ParseDocuments("fuzz.yaml", data, fuzzLimits)
		if err != nil {
			var de *catalog.DocumentError
			if !errors.As(err, &de) || de.File != "fuzz.yaml" {
				t.Fatalf("refusal %v is not a DocumentError naming the file", err)
			}
			if !errors.Is(err, catalog.ErrTooLarge) {
				t.Fatalf("whole file refused for a reason other than its size: %v", err)
			}
			return
		}
		for _, d := range docs {
			if d.Err != nil {
				var de *catalog.DocumentError
				if !errors.As(d.Err, &de) || de.File != "fuzz.yaml" || de.Document != d.Index {
					t.Fatalf("document %d: error %v does not name the file and document", d.Index, d.Err)
				}
				if d.Body != nil {
					t.Fatalf("document %d: refused but has a body", d.Index)
				}
				continue
			}
			e, err := catalog.NewEntity(d.Body)
			if err != nil {
				var ve *catalog.ValidationError
				if !errors.As(err, &ve) || len(ve.Fields) == 0 {
					t.Fatalf("document %d: NewEntity error %v lists no field", d.Index, err)
				}
				continue
			}
			js := e.JSON()
			again, err := catalog.ParseDocuments("again.json", js, catalog.Limits{})
			if err != nil || len(again) != 1 || again[0].Err != nil {
				t.Fatalf("canonical JSON %s does not parse again: %v %+v", js, err, again)
			}
			e2, err := catalog.NewEntity(again[0].Body)
			if err != nil {
				t.Fatalf("canonical JSON %s is refused: %v", js, err)
			}
			if !bytes.Equal(e2.JSON(), js) {
				t.Fatalf("round trip changed the body:\n%s\n%s", js, e2.JSON())
			}
			if e2.Ref() != e.Ref() {
				t.Fatalf("round trip changed the ref: %s -> %s", e.Ref(), e2.Ref())
			}
		}
	})
}
