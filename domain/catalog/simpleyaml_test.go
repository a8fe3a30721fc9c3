package catalog

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// simpleLimits are the defaults, as ParseDocuments applies them.
var simpleLimits = Limits{}.WithDefaults()

// sameAsYAML checks that decodeSimple, when it takes text, gives the body
// and node count of the YAML path, and reports whether it took it.
func sameAsYAML(t *testing.T, name string, text []byte, lim Limits) bool {
	t.Helper()
	got, gotNodes, ok := decodeSimple(text, lim)
	if !ok {
		return false
	}
	want, _, wantNodes, err := decodeYAML(text, lim)
	if err != nil {
		t.Fatalf("%s: the plain path took a document the YAML path refuses (%v):\n%s", name, err, text)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: the plain path read\n%#v\nthe YAML path\n%#v\nfrom:\n%s", name, got, want, text)
	}
	if gotNodes != wantNodes {
		t.Fatalf("%s: the plain path counted %d nodes, the YAML path %d, in:\n%s", name, gotNodes, wantNodes, text)
	}
	return true
}

// TestDecodeSimpleCases: each document either takes the plain path and
// reads as the YAML path reads it, or is left to the YAML path (taken false).
func TestDecodeSimpleCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		text  string
		taken bool
	}{
		{"component", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: web-1\n  description: Benchmark website 1.\n  tags:\n    - rust\n    - go\n  labels:\n    tier: tier-1\n  annotations:\n    github.com/project-slug: org/web-1\n    backstage.io/techdocs-ref: dir:.\n  links:\n    - url: https://git.example/org/web-1\n      title: Repository\nspec:\n  type: website\n  owner: team-a\n  dependsOn:\n    - resource:queue-6\n    - component:svc-583\n", true},
		{"compact sequence", "a:\n- x\n- y\nb:\n  c:\n  - z\n  d: e\n", true},
		{"sequence of mappings", "a:\n  - b: c\n    d: e\n  -   f: g\n      h: i\n  - j\n", true},
		{"empty values", "a:\nb: []\nc: {}\nd:\n  e:\n", true},
		{"literal", "spec:\n  definition: |\n    openapi: 3.0.3\n    paths:\n      /x:\n        '200': # not a comment\n  owner: x\n", true},
		{"literal last", "spec:\n  definition: |\n    a\n      b\n", true},
		{"quoted", "'200': 'OK, fine'\nb: ''\n", true},
		{"comments and blank lines", "# head\na: b\n\n  # indented\nc:\n  # inside\n  d: e\n", true},
		{"plain with punctuation", "a: x:y, [z] {w} it's \"q\" a#b (c) $d /e_f\n", true},
		{"placeholder", "spec:\n  definition:\n    $text: ./api.yaml\n    $json: ../x.json\n", true},
		{"dot path", "a: .x\n", false},
		{"words that stay strings", "a: yes\nb: no\nc: on\nd: off\ne: y\nf: Nope\ng: trueish\n", true},
		{"keys that look like values", "true: a\n'null': b\n2: c\n", true},

		{"bool", "a: true\n", false},
		{"bool upper", "a: FALSE\n", false},
		{"null", "a: null\n", false},
		{"tilde", "a: ~\n", false},
		{"int", "a: 12\n", false},
		{"version", "a: 1.7.0\n", false},
		{"negative", "a: -1\n", false},
		{"dot", "a: .inf\n", false},
		{"double quoted", "a: \"x\"\n", false},
		{"quote in quotes", "a: 'it''s'\n", false},
		{"flow", "a: [x, y]\n", false},
		{"flow root", "{a: b}\n", false},
		{"anchor", "a: &x b\nc: *x\n", false},
		{"tag", "a: !!str 1\n", false},
		{"folded", "a: >\n  x\n", false},
		{"literal keep", "a: |+\n  x\n", false},
		{"literal strip", "a: |-\n  x\n", false},
		{"literal blank line", "a: |\n  x\n\n  y\n", false},
		{"literal without break", "a: |\n  x", false},
		{"literal empty", "a: |\nb: c\n", false},
		{"multi-line plain", "a: x\n  y\n", false},
		{"value on next line", "a:\n  x\n", false},
		{"trailing comment", "a: b # c\n", false},
		{"comment value", "a: # c\n  b: d\n", false},
		{"trailing space", "a: b \n", false},
		{"tab", "a:\tb\n", false},
		{"carriage return", "a: b\r\n", false},
		{"unicode", "a: caf\xc3\xa9\n", false},
		{"duplicate key", "a: b\na: c\n", false},
		{"key with space", "a b: c\n", false},
		{"colon in value", "a: b: c\n", false},
		{"value ends in colon", "a: b:\n", false},
		{"merge key", "<<: x\n", false},
		{"sequence root", "- a\n", false},
		{"scalar root", "a\n", false},
		{"indented root", "  a: b\n", false},
		{"bad indent", "a:\n    b: c\n  d: e\n", false},
		{"sequence after value", "a: b\n- c\n", false},
		{"nested sequence", "a:\n  - - b\n", false},
		{"empty item", "a:\n  -\n    b: c\n", false},
		{"directive", "%YAML 1.2\na: b\n", false},
		{"question key", "? a\n: b\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if taken := sameAsYAML(t, tt.name, []byte(tt.text), simpleLimits); taken != tt.taken {
				t.Fatalf("taken by the plain path = %v, want %v:\n%s", taken, tt.taken, tt.text)
			}
		})
	}
}

// TestDecodeSimpleLimits: a document over MaxNodes or MaxDepth is left to
// the YAML path, which refuses it; one at the limits is taken.
func TestDecodeSimpleLimits(t *testing.T) {
	t.Parallel()
	text := []byte("a:\n  b:\n    c: d\n  e:\n    - f\n    - g\n")
	// Nodes: the root, the values of a, b, c and e, f and g: 7; depth:
	// the root at 0, f and g at 3.
	for _, tt := range []struct {
		name  string
		lim   Limits
		taken bool
	}{
		{"at the limits", Limits{MaxNodes: 7, MaxDepth: 3}, true},
		{"over MaxNodes", Limits{MaxNodes: 6, MaxDepth: 3}, false},
		{"over MaxDepth", Limits{MaxNodes: 7, MaxDepth: 2}, false},
	} {
		lim := tt.lim.WithDefaults()
		if taken := sameAsYAML(t, tt.name, text, lim); taken != tt.taken {
			t.Fatalf("%s: taken = %v, want %v", tt.name, taken, tt.taken)
		}
		if !tt.taken {
			if _, _, _, err := decodeDocument(text, lim); err == nil {
				t.Fatalf("%s: decodeDocument took a document over its limits", tt.name)
			}
		}
	}
}

// TestDecodeSimpleRepositoryFiles runs every YAML document of the
// repository's examples and test data through both paths.
func TestDecodeSimpleRepositoryFiles(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	taken, docs := 0, 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git" || d.Name() == "bin") {
			return filepath.SkipDir
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, c := range SplitDocuments(data) {
			docs++
			if sameAsYAML(t, path+"#"+string(rune('0'+i%10)), c.Text, simpleLimits) {
				taken++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of %d documents taken by the plain path", taken, docs)
	if taken == 0 {
		t.Fatal("no document of the repository took the plain path")
	}
}

// FuzzDecodeSimple: whatever the text, a document the plain path takes
// reads as the YAML path reads it.
func FuzzDecodeSimple(f *testing.F) {
	f.Add([]byte("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: a\n  tags:\n    - x\n  links:\n    - url: https://x\n      title: y\nspec:\n  owner: b\n  definition: |\n    a: 1\n      b\n"))
	f.Add([]byte("a:\n- x\nb: []\nc: {}\n'd': 'e'\n"))
	f.Add([]byte("a: b\n  c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsYAML(t, "fuzz", data, Limits{MaxNodes: 64, MaxDepth: 8}.WithDefaults())
	})
}

// benchDocuments are a component and an API as bench catalog writes them.
var benchDocuments = [][]byte{
	[]byte("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: core-booking-web-101\n  description: Benchmark website 101.\n  tags:\n    - rust\n    - typescript\n    - python\n  labels:\n    tier: tier-1\n    language: go\n  annotations:\n    github.com/project-slug: bench-org/core-booking-web-101\n    backstage.io/techdocs-ref: dir:.\n  links:\n    - url: https://git.bench.example/bench-org/core-booking-web-101\n      title: Repository\nspec:\n  type: website\n  lifecycle: deprecated\n  owner: supplier-team-19\n  system: simple-feature-5\n  dependsOn:\n    - resource:stock-queue-6\n    - resource:receipt-cache-29\n    - component:central-transfer-svc-583\n  providesApis:\n    - schedule-daily-api-80\n  consumesApis:\n    - search-smart-api-57\n    - ledger-central-api-173\n    - loyalty-core-api-53\n"),
	[]byte("apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: tax-batch-api-0\n  description: Benchmark API 0 for taxs.\n  tags:\n    - rest\nspec:\n  type: openapi\n  lifecycle: production\n  owner: review-team-4\n  system: web-event-1\n  definition: |\n    openapi: 3.0.3\n    info:\n      title: tax-batch-api-0\n      version: 1.7.0\n    paths:\n      /taxs:\n        get:\n          summary: List taxs\n          responses:\n            '200':\n              description: OK\n"),
}

// BenchmarkDecodeDocument decodes benchDocuments by decodeDocument (the
// plain path) and by the YAML path alone.
func BenchmarkDecodeDocument(b *testing.B) {
	for _, path := range []struct {
		name   string
		decode func([]byte, Limits) (map[string]any, string, int, error)
	}{{"plain", decodeDocument}, {"yaml", decodeYAML}} {
		b.Run(path.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				for _, d := range benchDocuments {
					if _, _, _, err := path.decode(d, simpleLimits); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
