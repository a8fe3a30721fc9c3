package policies

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
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
// the Backstage templates in the shared fixtures: their steps' inputs and
// outputs and their skeleton files.
func TestTemplateParsesTheFixtureTemplates(t *testing.T) {
	t.Parallel()
	root := "../../shared/fixtures/backstage/templates"
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".txt") {
			return err // SKELETONS.txt describes the fixtures
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
