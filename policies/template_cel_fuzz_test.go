package policies

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// FuzzCELTemplateRender parses and renders arbitrary template text against a
// parameter of arbitrary text: neither panics, every failure is a
// *TemplateError, and what renders is never longer than MaxRenderedLength
// (as text, or as the JSON of a single expression's value).
func FuzzCELTemplateRender(f *testing.F) {
	f.Add("${{ parameters.name }}", "payments")
	f.Add("svc-${{ parameters.name | lower }}-${{ parameters.port }}", "Pay")
	f.Add("{% if parameters.name %}yes{% else %}no{% endif %}", "")
	f.Add(`${{ replace(replace(parameters.name, "a", "aaaaaaaaaa"), "a", "aaaaaaaaaa") }}`, strings.Repeat("a", 100))
	f.Add(`${{ dump(dump(dump(parameters))) }}`, `"\\`)
	f.Add(`${{ [parameters.name, parameters.name].map(x, x + x + x) }}`, "xyz")
	f.Add("${{ parameters.name.size() > 3 ? upper(parameters.name) : trim(parameters.name) }}", " ab ")
	f.Add("${{ unclosed", "")
	f.Fuzz(func(t *testing.T, text, param string) {
		tpl, err := ParseTemplate(text)
		if err != nil {
			var te *TemplateError
			if !errors.As(err, &te) {
				t.Fatalf("parse error %v is not a *TemplateError", err)
			}
			return
		}
		vars := map[string]any{"parameters": map[string]any{
			"name": param, "port": int64(8080), "tags": []any{param, "x"},
		}}
		v, err := tpl.Render(vars)
		if err != nil {
			var te *TemplateError
			if !errors.As(err, &te) {
				t.Fatalf("render error %v is not a *TemplateError", err)
			}
			return
		}
		if s, ok := v.(string); ok {
			if len(s) > MaxRenderedLength {
				t.Fatalf("%q rendered %d bytes, limit %d", text, len(s), MaxRenderedLength)
			}
			return
		}
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%q rendered %T, which is not JSON: %v", text, v, err)
		}
		if len(j) > MaxRenderedLength {
			t.Fatalf("%q rendered %d bytes of JSON, limit %d", text, len(j), MaxRenderedLength)
		}
	})
}

// TestTemplateRefusesTagsCutShort holds the inputs FuzzCELTemplateRender found
// panicking: a tag cut short, or whose closer overlaps its opener, is an
// unclosed tag.
func TestTemplateRefusesTagsCutShort(t *testing.T) {
	t.Parallel()
	for _, text := range []string{"{%", "{%}", "a {%- b", "x ${{", "${{}"} {
		_, err := ParseTemplate(text)
		var te *TemplateError
		if !errors.As(err, &te) || !strings.Contains(te.Message, "no closing") {
			t.Errorf("%q: got %v, want a no closing error", text, err)
		}
	}
}
