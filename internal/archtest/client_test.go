package archtest

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// serverOnly reports why path must not be linked by the client, or "".
func serverOnly(path string) string {
	switch {
	case isServer(path):
		return "the HTTP server"
	case path == module+"/internal/app" || strings.HasPrefix(path, module+"/internal/app/"):
		return "the wiring of the server roles"
	case strings.HasPrefix(path, module+"/projections/"):
		return "a read model and its stores"
	case strings.HasPrefix(path, module+"/internal/eventlog"):
		return "an event log"
	case path == module+"/internal/temporalsrv", strings.HasPrefix(path, "go.temporal.io/server"):
		return "the Temporal server"
	case strings.HasPrefix(path, "go.temporal.io/"):
		return "the Temporal SDK: the client has its own wire types for the workflows' answers"
	case strings.HasPrefix(path, module+"/workflows/"):
		return "a workflow and its activities"
	case strings.HasPrefix(path, "github.com/google/cel-go/"), path == module+"/policies" || strings.HasPrefix(path, module+"/policies/"):
		return "CEL and the policies"
	case strings.HasPrefix(path, module+"/internal/catalogsvc"), strings.HasPrefix(path, module+"/internal/scaffoldsvc"),
		strings.HasPrefix(path, module+"/internal/migratesvc"), strings.HasPrefix(path, module+"/internal/badging"),
		strings.HasPrefix(path, module+"/internal/audit"):
		return "an application service"
	case strings.HasPrefix(path, "github.com/jackc/pgx"), path == "modernc.org/sqlite", strings.HasPrefix(path, "github.com/segmentio/kafka-go"):
		return "a database or broker driver"
	}
	return ""
}

func TestClientLinksNoServerCode(t *testing.T) {
	t.Parallel()
	const client = module + "/internal/client"
	pkgs := list(t, client)
	p, ok := pkgs[client]
	if !ok {
		t.Fatalf("%s: not listed", client)
	}
	if len(p.Deps) == 0 {
		t.Fatalf("%s lists no dependencies; go list did not answer as expected", client)
	}
	for _, dep := range p.Deps {
		if why := serverOnly(dep); why != "" {
			t.Errorf("the client depends on %s (%s): the CLI must link no server code", dep, why)
		}
	}
}

func TestServerOnlyNamesTheServerPackages(t *testing.T) {
	t.Parallel()
	// The rule above must recognise what it guards against, or the client
	// test passes vacuously.
	for _, path := range []string{
		module + "/internal/httpapi", module + "/internal/app", module + "/projections/catalogstore",
		module + "/projections/catalogstore/pgcatalog", module + "/projections/catalogstore/sqlitecatalog", module + "/internal/eventlog/sqlitelog",
		"go.temporal.io/server/temporal", module + "/internal/catalogsvc", module + "/internal/audit",
		"go.temporal.io/sdk/client", "go.temporal.io/api/workflowservice/v1", "github.com/google/cel-go/cel",
		module + "/workflows/migration", module + "/workflows/scaffolder", module + "/policies",
	} {
		if serverOnly(path) == "" {
			t.Errorf("serverOnly(%s) = \"\", want a reason", path)
		}
	}
	for _, path := range []string{module + "/internal/client", module + "/domain/event", module + "/domain/catalog", "net/http", "go.yaml.in/yaml/v3"} {
		if why := serverOnly(path); why != "" {
			t.Errorf("serverOnly(%s) = %q, want \"\"", path, why)
		}
	}
}

// TestCommandsUseTheClientOnly checks the CLI's command code: a file of
// cmd/backlot that calls the API through package client imports neither the
// HTTP server nor the wiring, so the commands stay a client of the API.
func TestCommandsUseTheClientOnly(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "..", "cmd", "backlot")
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	commands := 0
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		imports := map[string]bool{}
		for _, imp := range f.Imports {
			imports[strings.Trim(imp.Path.Value, `"`)] = true
		}
		if !imports[module+"/internal/client"] {
			continue
		}
		commands++
		for _, server := range []string{module + "/internal/httpapi", module + "/internal/app"} {
			if imports[server] {
				t.Errorf("%s imports %s and the client: a client command talks to the server over HTTP only", file, server)
			}
		}
	}
	if commands == 0 {
		t.Fatalf("no file in %s imports the client; the test looks in the wrong place", dir)
	}
}
