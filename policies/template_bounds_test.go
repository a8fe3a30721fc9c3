package policies

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// growing returns an expression of n nested calls, each wrapping the last.
func growing(n int, open, close, seed string) string {
	return strings.Repeat(open, n) + seed + strings.Repeat(close, n)
}

func TestTemplateOutputIsBounded(t *testing.T) {
	t.Parallel()
	// p.s is a 60 kB string, as a parameter may be.
	list := `[` + strings.Repeat("p.s,", 99) + `p.s]`
	cases := []struct {
		name string
		expr string
	}{
		// 10 bytes grown tenfold seven times: 100 MB without the bounds.
		{"replace chain", growing(7, `replace(`, `,"a","aaaaaaaaaa")`, `"aaaaaaaaaa"`)},
		// Each dump escapes the quotes and backslashes of the last: it doubles.
		{"dump chain", growing(40, `dump(`, `)`, `"\""`)},
		// One long string held many times by a list costs little to build.
		{"a list of one string many times", `dump(` + list + `.map(x, ` + list + `))`},
		{"a single expression's value", list + `.map(x, ` + list + `)`},
		{"concatenation in a comprehension", list + `.map(x, x + x + x + x + x + x + x + x)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			text := "${{ " + strings.ReplaceAll(c.expr, "p.s", "parameters.s") + " }}"
			if len(c.expr) < 300 {
				t.Logf("%d-byte expression", len(c.expr))
			}
			tpl, err := ParseTemplate(text)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			out, err := tpl.Render(map[string]any{"parameters": map[string]any{"s": strings.Repeat("a", 60_000)}})
			took := time.Since(start)
			var te *TemplateError
			if !errors.As(err, &te) {
				n := 0
				if s, ok := out.(string); ok {
					n = len(s)
				}
				t.Fatalf("rendered %d bytes (%T) in %s, want a TemplateError", n, out, took)
			}
			msg := te.Error()
			if !strings.Contains(msg, "cost limit") && !strings.Contains(msg, fmt.Sprint(MaxRenderedLength)) {
				t.Errorf("error %q names neither the cost limit nor MaxRenderedLength", msg)
			}
			t.Logf("refused after %s", took)
		})
	}
}

func TestTemplateTextAroundValuesIsBounded(t *testing.T) {
	t.Parallel()
	// Each expression is cheap; together the text passes the limit.
	half := strings.Repeat("x", MaxTemplateLength/2)
	tpl, err := ParseTemplate(half + "${{ parameters.v }}${{ parameters.v }}${{ parameters.v }}${{ parameters.v }}")
	if err != nil {
		t.Fatal(err)
	}
	_, err = tpl.Render(map[string]any{"parameters": map[string]any{"v": half}})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprint(MaxRenderedLength)) {
		t.Fatalf("got %v, want the MaxRenderedLength error", err)
	}
}

func TestTemplateFunctionsStillRenderOrdinaryValues(t *testing.T) {
	t.Parallel()
	tpl, err := ParseTemplate(`${{ replace(parameters.name, "-", "_") | upper }} ${{ parameters.tags | dump }}`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tpl.Render(map[string]any{"parameters": map[string]any{"name": "led-ger", "tags": []any{"go", "api"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got != `LED_GER ["go","api"]` {
		t.Fatalf("got %q", got)
	}
}
