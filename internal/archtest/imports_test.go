package archtest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// module is Backlot's module path.
const module = "backlot.dev/backlot"

// listed is what go list -json says of a package.
type listed struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// list runs go list -deps -json on the patterns and returns the named
// packages (not their dependencies) by import path.
func list(t *testing.T, patterns ...string) map[string]listed {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list imports: %v", err)
	}
	args := append([]string{"list", "-json"}, patterns...)
	out, err := exec.Command(goTool, args...).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list %v: %v\n%s", patterns, err, stderr)
	}
	pkgs := map[string]listed{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs[p.ImportPath] = p
	}
	if len(pkgs) == 0 {
		t.Fatalf("go list %v listed no package", patterns)
	}
	return pkgs
}

// services are the application services: they say what happened in their
// own types and fault categories, and know nothing of HTTP.
var services = []string{
	module + "/internal/catalogsvc",
	module + "/internal/scaffoldsvc",
	module + "/internal/migratesvc",
	module + "/internal/badging",
	module + "/internal/audit",
	module + "/internal/feed",
}

// isServer reports whether path is the HTTP server or one of its packages.
func isServer(path string) bool {
	return path == module+"/internal/httpapi" || strings.HasPrefix(path, module+"/internal/httpapi/")
}

func TestServicesImportNoHTTP(t *testing.T) {
	t.Parallel()
	pkgs := list(t, services...)
	for _, name := range services {
		p, ok := pkgs[name]
		if !ok {
			t.Errorf("%s: not listed", name)
			continue
		}
		for _, imp := range p.Imports {
			if imp == "net/http" || strings.HasPrefix(imp, "net/http/") {
				t.Errorf("%s imports %s: a service returns its own results and fault categories; the HTTP server does the HTTP", name, imp)
			}
		}
		for _, dep := range p.Deps {
			if isServer(dep) {
				t.Errorf("%s depends on %s: the server imports the services, never the reverse", name, dep)
			}
		}
	}
}
