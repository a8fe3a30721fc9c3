package nunjucks

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzTemplateRender renders arbitrary template text, as text and as a
// value, against a parameter of arbitrary text: neither panics, every
// failure is an *Error, and what renders is never longer than
// MaxRenderedLength (as text, or as the JSON of a sole expression's value).
func FuzzTemplateRender(f *testing.F) {
	f.Add("${{ parameters.name }}", "payments")
	f.Add("svc-${{ parameters.name | lower }}-${{ parameters.port }}", "Pay")
	f.Add("{% if parameters.name %}yes{% else %}no{% endif %}", "")
	f.Add(`${{ parameters.name | replace("a", "aaaaaaaaaa") | replace("a", "aaaaaaaaaa") }}`, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
	f.Add(`${{ parameters | dump | dump | dump }}`, `"\\`)
	f.Add(`{% for t in parameters.tags %}${{ t ~ t ~ t }}{% endfor %}`, "xyz")
	f.Add(`${{ (parameters.repo | parseRepoUrl).owner }}`, "github.com?owner=o&repo=r")
	f.Add(`${{ parameters.name | parseEntityRef | pick("name") }}`, "group:default/team")
	f.Add("{% set x = parameters.name %}{% for i in range(0, 30) %}{% set x = x ~ x %}{% endfor %}${{ x | length }}", "ab")
	f.Add("${{ unclosed", "")
	f.Add("{% raw %}${{ github.sha }}{% endraw %}", "")
	e, err := Default()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text, param string) {
		s, err := e.Session(Options{}, map[string]any{"parameters": map[string]any{
			"name": param, "repo": param, "port": int64(8080), "tags": []any{param, "x"},
		}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		check := func(err error) bool {
			if err == nil {
				return true
			}
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("%q: error %v is not an *Error", text, err)
			}
			return false
		}
		if out, err := s.Render(text); check(err) && len(out) > MaxRenderedLength {
			t.Fatalf("%q rendered %d bytes, limit %d", text, len(out), MaxRenderedLength)
		}
		v, _, err := s.RenderValue(text)
		if !check(err) {
			return
		}
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%q rendered %T, which is not JSON: %v", text, v, err)
		}
		if len(j) > MaxRenderedLength+2 {
			t.Fatalf("%q rendered %d bytes of JSON, limit %d", text, len(j), MaxRenderedLength)
		}
	})
}
