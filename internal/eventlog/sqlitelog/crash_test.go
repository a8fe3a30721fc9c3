package sqlitelog

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"backlot.dev/backlot/internal/eventlog/logtest"
)

// childDBEnv names the file a child process of TestAppendSurvivesProcessKill appends to.
const childDBEnv = "SQLITELOG_TEST_CHILD_DB"

// TestAppendSurvivesProcessKill runs a child process that appends batches and reports
// each returned position, kills it with SIGKILL mid-stream, and checks that every
// reported append is in the file: WAL with synchronous=NORMAL is durable across a
// process crash.
func TestAppendSurvivesProcessKill(t *testing.T) {
	if path := os.Getenv(childDBEnv); path != "" {
		appendUntilKilled(path)
		return
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestAppendSurvivesProcessKill$")
	cmd.Env = append(os.Environ(), childDBEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var reported int64
	lines := bufio.NewScanner(out)
	for reported < 300 && lines.Scan() {
		if p, ok := strings.CutPrefix(lines.Text(), "appended "); ok {
			if reported, err = strconv.ParseInt(p, 10, 64); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if reported < 300 {
		t.Fatalf("child reported only %d appended events", reported)
	}

	l := openAt(t, path, Options{})
	head, err := l.Head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if head < reported {
		t.Fatalf("head after the kill = %d, but the child saw position %d appended", head, reported)
	}
	evs, err := l.Read(t.Context(), 0, int(head)+10)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(evs)) != head {
		t.Fatalf("read %d events, head is %d", len(evs), head)
	}
	for i, e := range evs {
		if e.Position != int64(i+1) || !json.Valid(e.Data) {
			t.Fatalf("event %d: position %d, data %q", i, e.Position, e.Data)
		}
	}
	t.Logf("child killed after reporting %d events; %d in the file", reported, head)
}

// appendUntilKilled appends batches of 10 events to the log at path and prints each
// returned position, until the process is killed. It never closes the log.
func appendUntilKilled(path string) {
	l, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		last, err := l.Append(context.Background(), logtest.MakeEnvelopes(fmt.Sprint(i), 10, 200))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Printf("appended %d\n", last)
	}
}
