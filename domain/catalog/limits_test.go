package catalog_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/catalog"
)

// largeCatalog writes n Component documents of about 250 bytes each into one
// file, as a catalog exported from another portal looks.
func largeCatalog(n int) []byte {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: service-%d
  description: Service number %d of a large single-file catalog, kept in one place.
  tags: [go, tier-%d]
spec:
  type: service
  lifecycle: production
  owner: team-%d
  system: system-%d
`, i, i, i%3, i%40, i%50)
	}
	return []byte(b.String())
}

func TestDefaultLimitsTakeTwentyThousandEntitiesInOneFile(t *testing.T) {
	t.Parallel()
	data := largeCatalog(20000)
	if len(data) < 5_000_000 {
		t.Fatalf("the test file is %d bytes, want at least 5 MB", len(data))
	}
	docs, err := catalog.ParseDocuments("all.yaml", data, catalog.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 20000 {
		t.Fatalf("%d documents, want 20000", len(docs))
	}
	for _, d := range docs {
		if d.Err != nil {
			t.Fatalf("document %d: %v", d.Index, d.Err)
		}
	}
	if name, _ := docs[19999].Body["metadata"].(map[string]any)["name"].(string); name != "service-19999" {
		t.Fatalf("last document is %q", name)
	}
}

func TestFileLimitsNameTheFileAndTheLimit(t *testing.T) {
	t.Parallel()
	// Many documents, each a small alias bomb under the per-document limit,
	// add up past the file's node budget.
	var bomb strings.Builder
	for i := range 200 {
		fmt.Fprintf(&bomb, "---\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nn: %d\n", i)
	}
	tests := []struct {
		name, data string
		lim        catalog.Limits
		want       string
	}{
		{"bytes", strings.Repeat("#", 2048), catalog.Limits{MaxFileBytes: 1024}, "bombs.yaml: file is 2048 bytes, over the size limit of 1024 bytes"},
		{"documents", strings.Repeat("a: 1\n---\n", 20), catalog.Limits{MaxDocuments: 10}, "bombs.yaml: file holds 20 documents, over the size limit of 10"},
		{"nodes of the file", bomb.String(), catalog.Limits{MaxFileNodes: 100000}, "bombs.yaml: file expands to more than 100000 YAML nodes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := catalog.ParseDocuments("bombs.yaml", []byte(tc.data), tc.lim)
			if !errors.Is(err, catalog.ErrTooLarge) {
				t.Fatalf("want ErrTooLarge for the file, got %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}
	// The same bombs pass one at a time: each is under the per-document limit.
	docs, err := catalog.ParseDocuments("bombs.yaml", []byte(bomb.String()), catalog.Limits{})
	if err != nil || len(docs) != 200 || docs[0].Err != nil {
		t.Fatalf("200 small documents under the default limits: %v", err)
	}
}

// BenchmarkParseLargeFile parses a single file of 20,000 entities (5 MB).
func BenchmarkParseLargeFile(b *testing.B) {
	data := largeCatalog(20000)
	b.SetBytes(int64(len(data)))
	for range b.N {
		if _, err := catalog.ParseDocuments("all.yaml", data, catalog.Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
