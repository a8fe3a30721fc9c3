package webui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRenderExampleAPIs renders each definition of the example catalog.
func TestRenderExampleAPIs(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "catalog", "definitions")
	for _, c := range []struct {
		file, typ string
		ops       []string // "method path" of operations it must list
		schemas   []string
	}{
		{"route-planner.openapi.yaml", "openapi", []string{"post /plans", "get /plans/{planId}"}, []string{"Plan", "PlanRequest"}},
		{"shipping-label.openapi.yaml", "openapi", nil, nil},
		{"parcel-events.asyncapi.yaml", "asyncapi", []string{"subscribe parcel.events.v3"}, []string{"ParcelScanned"}},
		{"driver-dispatch.asyncapi.yaml", "asyncapi", nil, nil},
	} {
		t.Run(c.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, c.file))
			if err != nil {
				t.Fatal(err)
			}
			d := renderAPI(c.typ, string(raw))
			if d.Problem != "" || d.Title == "" || len(d.Operations) == 0 {
				t.Fatalf("rendered %+v", d)
			}
			var ops, schemas []string
			for _, o := range d.Operations {
				ops = append(ops, o.Method+" "+o.Path)
			}
			for _, s := range d.Schemas {
				schemas = append(schemas, s.Name)
			}
			for _, w := range c.ops {
				if !strings.Contains(strings.Join(ops, "|"), w) {
					t.Errorf("operations %v lack %q", ops, w)
				}
			}
			for _, w := range c.schemas {
				if !strings.Contains("|"+strings.Join(schemas, "|")+"|", "|"+w+"|") {
					t.Errorf("schemas %v lack %q", schemas, w)
				}
			}
		})
	}
	if d := renderAPI("openapi", "paths: [unclosed"); d.Problem == "" || !strings.Contains(string(d.Source), "unclosed") {
		t.Errorf("a broken definition: %+v", d)
	}
}

func TestHighlight(t *testing.T) {
	for _, c := range []struct {
		name, src string
		l         lang
		want      []string
	}{
		{"graphql", "type Query {\n  # a comment <b>\n  parcel(id: ID!): Parcel \"doc\"\n}", graphqlLang,
			[]string{`<span class="tok-kw">type</span>`, `<span class="tok-type">Query</span>`, `<span class="tok-com"># a comment &lt;b&gt;</span>`, `<span class="tok-type">ID</span>`, `<span class="tok-str">&#34;doc&#34;</span>`}},
		{"proto", "syntax = \"proto3\";\n/* block */\nservice Telemetry { rpc Stream(stream Point) returns (Ack); }\nmessage Point { double lat = 1; }", protoLang,
			[]string{`<span class="tok-kw">service</span>`, `<span class="tok-com">/* block */</span>`, `<span class="tok-kw">stream</span>`, `<span class="tok-type">double</span>`, `<span class="tok-num">1</span>`}},
		{"no markup passes", "<script>alert(1)</script>", graphqlLang, []string{"&lt;", "&gt;"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := string(highlight(c.src, c.l))
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("highlight lacks %s:\n%s", w, got)
				}
			}
			if strings.Contains(got, "<script>") {
				t.Errorf("markup passed through: %s", got)
			}
		})
	}
}
