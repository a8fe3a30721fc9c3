package customaction_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/workflows/scaffolder/customaction"
)

// TestTheShippedRegistrationLoads reads actions/actions.yaml: its commands
// resolve against the file's folder, and the sandbox binds their folder.
func TestTheShippedRegistrationLoads(t *testing.T) {
	t.Parallel()
	c, err := customaction.Load("../../../actions/actions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bin, _ := filepath.Abs("../../../bin")
	a, ok := c.Lookup("roadiehq:utils:json:merge")
	if !ok || a.Command[0] != filepath.Join(bin, "backlot-action-roadie") || a.Command[1] != "json-merge" || a.Timeout != time.Minute {
		t.Fatalf("roadiehq:utils:json:merge: %+v", a)
	}
	h, _ := c.Lookup("http:backstage:request")
	if !h.Network || len(h.Secrets) != 1 || h.Secrets[0] != "backstageToken" {
		t.Fatalf("http:backstage:request: %+v", h)
	}
	if dirs := customaction.Dirs(c); len(dirs) != 1 || dirs[0] != bin {
		t.Fatalf("dirs %v", dirs)
	}
}

func TestAnIDInTwoFilesIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	entry := "actions: [{id: acme:x, taskQueue: q, activityType: t}]\n"
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	os.WriteFile(a, []byte(entry), 0o644)
	os.WriteFile(b, []byte(entry), 0o644)
	_, err := customaction.Load(a, b)
	if err == nil || !strings.Contains(err.Error(), b) || !strings.Contains(err.Error(), "already registered in "+a) {
		t.Fatalf("%v", err)
	}
}
