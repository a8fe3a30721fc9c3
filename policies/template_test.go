package policies

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"backlot.dev/backlot/internal/testenv/fixtures"
)

func TestTemplateRendersBackstageForms(t *testing.T) {
	t.Parallel()
	vars := map[string]any{
		"parameters": map[string]any{"name": "ledger", "port": int64(8080), "go_version": 1.23, "repoUrl": "github.com?owner=northwind&repo=ledger", "tags": []any{"go", "api"}},
		"steps":      map[string]any{"publish": map[string]any{"output": map[string]any{"remoteUrl": "https://git.example/northwind/ledger"}}},
		"values":     map[string]any{"name": `say "hi"`, "destination": map[string]any{"owner": "northwind", "repo": "ledger"}},
	}
	for _, c := range []struct {
		name, text string
		want       any
	}{
		{"plain text", "no expressions here", "no expressions here"},
		{"a parameter in text", "This is ${{ parameters.name }}", "This is ledger"},
		{"a whole expression keeps its type", "${{ parameters.port }}", int64(8080)},
		{"a float", "${{ parameters.go_version }}", 1.23},
		{"a list", "${{ parameters.tags }}", []any{"go", "api"}},
		{"a number in text", "port ${{ parameters.port }}", "port 8080"},
		{"steps with brackets", "${{ steps['publish'].output.remoteUrl }}", "https://git.example/northwind/ledger"},
		{"steps with dots", "${{ steps.publish.output.remoteUrl }}", "https://git.example/northwind/ledger"},
		{"the dump filter", `"name": ${{ values.name | dump }}`, `"name": "say \"hi\""`},
		{"no spaces", "${{values.name|dump}}", `"say \"hi\""`},
		{"string concatenation", `${{values.destination.owner + "/" + values.destination.repo}}`, "northwind/ledger"},
		{"parseRepoUrl", "${{ parseRepoUrl(parameters.repoUrl).owner }}", "northwind"},
		{"parseRepoUrl as a filter", "${{ parameters.repoUrl | parseRepoUrl }}", map[string]any{"host": "github.com", "owner": "northwind", "repo": "ledger"}},
		{"projectSlug", "${{ parameters.repoUrl | projectSlug }}", "northwind/ledger"},
		{"chained filters", "${{ parameters.name | upper | replace('L', 'l') }}", "lEDGER"},
		{"or stays an operator", "${{ parameters.name == 'x' || true }}", true},
		{"a pipe in a string", "${{ 'a|b' }}", "a|b"},
		{"a missing variable is an empty map", "${{ has(user.ref) }}", false},
		{"a missing field is null", "${{ parameters.nope }}", nil},
		{"a missing field in text is nothing", "[${{ parameters.nope }}]", "[]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tp, err := ParseTemplate(c.text)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tp.Render(vars)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %#v, want %#v", got, c.want)
			}
		})
	}
}

func TestTemplateErrorsNameTheExpressionAndPosition(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, text string
		vars       map[string]any
		want       string
	}{
		{"syntax", "line one\nname: ${{ parameters.name + }}", nil, "2:7: ${{ parameters.name + }}: "},
		{"unclosed", "x ${{ parameters.name", nil, "1:3: ${{ parameters.name }}: no closing }}"},
		{"unknown variable", "${{ params.name }}", nil, "1:1: ${{ params.name }}: "},
		{"type error at run time", "a ${{ parameters.name + 1 }}", map[string]any{"parameters": map[string]any{"name": "x"}}, "1:3: ${{ parameters.name + 1 }}: no such overload"},
		{"bad repo url", "${{ 'nohost' | projectSlug }}", nil, "projectSlug: \"nohost\" is not a repository location"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tp, err := ParseTemplate(c.text)
			if err == nil {
				_, err = tp.Render(c.vars)
			}
			var te *TemplateError
			if !errors.As(err, &te) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestTemplateParsesTheFixtureTemplates compiles every ${{ }} expression of
// the shared test templates (internal/testenv/fixtures): their steps' inputs
// and outputs and their skeleton files.
func TestTemplateParsesTheFixtureTemplates(t *testing.T) {
	t.Parallel()
	root := fixtures.Templates()
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.Contains(line, "${{") {
				continue
			}
			n++
			if _, err := ParseTemplate(line); err != nil {
				t.Errorf("%s: %v", p, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Fatalf("only %d lines with expressions under %s", n, root)
	}
}

// TestTemplateIfBlocksRenderTheFixtureSkeleton renders the Gin template's
// skeleton catalog-info.yaml with and without a description: the {%- if %}
// block keeps or drops its line, and the result is the YAML Backstage makes.
func TestTemplateIfBlocksRenderTheFixtureSkeleton(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join(fixtures.Template("gin-service"), "skeleton", "catalog-info.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tp, err := ParseTemplate(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]any{"component_id": "ledger", "owner": "group:default/team-a", "destination": map[string]any{"owner": "northwind", "repo": "ledger"}}
	head := func(s string) string { return strings.Join(strings.Split(s, "\n")[:6], "\n") }
	out, err := tp.RenderString(map[string]any{"values": values})
	if err != nil {
		t.Fatal(err)
	}
	if want := "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: \"ledger\"\n  annotations:\n    github.com/project-slug: northwind/ledger"; head(out) != want {
		t.Errorf("without a description:\n%s\nwant\n%s", head(out), want)
	}
	values["description"] = "Books every parcel"
	out, err = tp.RenderString(map[string]any{"values": values})
	if err != nil {
		t.Fatal(err)
	}
	if want := "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: \"ledger\"\n  description: \"Books every parcel\"\n  annotations:"; head(out) != want {
		t.Errorf("with a description:\n%s\nwant\n%s", head(out), want)
	}
	if !strings.HasSuffix(strings.TrimSpace(out), `owner: "group:default/team-a"`) {
		t.Errorf("the owner: %q", out)
	}
}

func TestTemplateBlocks(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, text string
		vars       map[string]any
		want       string
	}{
		{"else", "{% if parameters.on %}yes{% else %}no{% endif %}", map[string]any{"parameters": map[string]any{"on": false}}, "no"},
		{"nested", "{% if true %}a{% if parameters.n > 1 %}b{% endif %}c{% endif %}", map[string]any{"parameters": map[string]any{"n": 2}}, "abc"},
		{"trim both sides", "x\n  {%- if true -%}\n  y\n{%- endif %}", nil, "xy"},
		{"a missing field is false", "{% if parameters.nope %}set{% endif %}.", nil, "."},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tp, err := ParseTemplate(c.text)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tp.RenderString(c.vars)
			if err != nil || got != c.want {
				t.Errorf("got %q %v, want %q", got, err, c.want)
			}
		})
	}
	for _, bad := range []string{"{% if true %}open", "{% endif %}", "{% for x in y %}{% endfor %}", "{% if true %}{% else %}{% else %}{% endif %}"} {
		if _, err := ParseTemplate(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
