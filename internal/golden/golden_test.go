package golden

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
)

// updateDumps rewrites the committed dumps from a replay of the committed
// logs (never the logs themselves): for a deliberate change to what a read
// model holds, reviewed as the diff of the dumps.
var updateDumps = flag.Bool("update-dumps", false, "rewrite testdata/*/{catalog,history,badges}.json from a replay of the committed logs")

// release is one committed release folder of testdata.
type release struct {
	name   string
	dir    string
	events []event.Envelope
	dumps  Dumps
}

// releases reads every committed release folder (testdata/v*), its log and
// its dumps. There must be at least one.
func releases(t *testing.T) []release {
	t.Helper()
	dirs, err := filepath.Glob("testdata/v*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden release folder in testdata (%v): record one, see doc.go", err)
	}
	var out []release
	for _, dir := range dirs {
		r := release{name: filepath.Base(dir), dir: dir}
		logPath := filepath.Join(dir, LogFile)
		if _, err := os.Stat(logPath + ".gz"); err == nil {
			logPath += ".gz"
		}
		if r.events, err = ReadLog(logPath); err != nil {
			t.Fatal(err)
		}
		read := func(name string) []byte {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		r.dumps = Dumps{Catalog: read(CatalogFile), History: read(HistoryFile), Badges: read(BadgesFile)}
		out = append(out, r)
	}
	return out
}

// compareDumps fails the test for every dump of got that differs from want,
// listing the paths that differ with both values, named wantName and
// gotName; it writes got to a temporary folder for a closer look.
func compareDumps(t *testing.T, what, wantName, gotName string, want, got Dumps) {
	t.Helper()
	var bad []string
	for _, name := range sortedKeys(want.Files()) {
		diffs, err := DiffNamed(want.Files()[name], got.Files()[name], wantName, gotName)
		if err != nil {
			t.Errorf("%s: %s: %v", what, name, err)
			continue
		}
		if len(diffs) > 0 {
			bad = append(bad, name)
			t.Errorf("%s: %s differs:\n\t%s", what, name, strings.Join(diffs, "\n\t"))
		}
	}
	if len(bad) > 0 {
		dir, err := os.MkdirTemp("", "backlot-golden-got-")
		if err == nil {
			for name, b := range got.Files() {
				os.WriteFile(filepath.Join(dir, name), b, 0o644)
			}
			t.Logf("%s: the dumps it produced are in %s", what, dir)
		}
	}
}

// replayInto replays the log into fresh read models and dumps them.
func replayInto(t *testing.T, m readModels, events []event.Envelope) (Dumps, time.Duration) {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	if err := Replay(ctx, events, 0, m.targets); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	d, err := Dump(ctx, m.Readers, events)
	if err != nil {
		t.Fatal(err)
	}
	return d, took
}

// TestGoldenLogPayloadsStillFit decodes every event of every committed log
// into today's Go payload types: a field renamed, removed or retyped within
// a version fails here, naming the event type and the field.
func TestGoldenLogPayloadsStillFit(t *testing.T) {
	t.Parallel()
	for _, r := range releases(t) {
		if err := CheckPayloads(r.events); err != nil {
			t.Errorf("golden log %s: %v", r.name, err)
		}
	}
}

// TestGoldenLogReplaysToTheCommittedReadModels replays every committed log
// into fresh catalog, history and badge read models on SQLite and on
// PostgreSQL, and finds each identical to the dumps committed with the log,
// and the two stores identical to each other.
func TestGoldenLogReplaysToTheCommittedReadModels(t *testing.T) {
	t.Parallel()
	for _, r := range releases(t) {
		t.Run(r.name, func(t *testing.T) {
			lite, took := replayInto(t, openSQLite(t, t.TempDir()), r.events)
			t.Logf("SQLite: %d events replayed in %s (catalog, history and badges)", len(r.events), took.Round(time.Millisecond))
			pg, took := replayInto(t, openPostgres(t), r.events)
			t.Logf("PostgreSQL: %d events replayed in %s (catalog, history and badges)", len(r.events), took.Round(time.Millisecond))
			compareDumps(t, "PostgreSQL against SQLite", "SQLite", "PostgreSQL", lite, pg)
			if *updateDumps {
				if t.Failed() {
					t.Fatal("SQLite and PostgreSQL disagree: no dump written")
				}
				for name, b := range lite.Files() {
					if err := os.WriteFile(filepath.Join(r.dir, name), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				t.Logf("rewrote the dumps of %s from its log; review their diff before committing", r.dir)
				return
			}
			compareDumps(t, "replay on SQLite", "committed", "replayed", r.dumps, lite)
			compareDumps(t, "replay on PostgreSQL", "committed", "replayed", r.dumps, pg)
		})
	}
}

// TestGoldenLogReplaysTheSameInOneBatch replays the log in a single batch:
// the read models must not depend on where batches end.
func TestGoldenLogReplaysTheSameInOneBatch(t *testing.T) {
	t.Parallel()
	for _, r := range releases(t) {
		m := openSQLite(t, t.TempDir())
		if err := Replay(context.Background(), r.events, len(r.events), m.targets); err != nil {
			t.Fatal(err)
		}
		d, err := Dump(context.Background(), m.Readers, r.events)
		if err != nil {
			t.Fatal(err)
		}
		compareDumps(t, r.name+" replayed in one batch", "committed", "replayed", r.dumps, d)
	}
}

// declaredTypes returns the value of every constant of type Type declared in
// domain/event, read from its source, so a type added there is seen here.
func declaredTypes(t *testing.T) []event.Type {
	t.Helper()
	files, err := filepath.Glob("../../domain/event/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("domain/event sources: %v", err)
	}
	var out []event.Type
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Type" {
					continue
				}
				for _, v := range vs.Values {
					if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						s, _ := strconv.Unquote(lit.Value)
						out = append(out, event.Type(s))
					}
				}
			}
		}
	}
	if len(out) < len(payloads) {
		t.Fatalf("found %d event types in domain/event, fewer than the %d payload types known here", len(out), len(payloads))
	}
	return out
}

// TestGoldenLogCoversTheCatalogsLife pins what the recordings hold: every
// event type declared in domain/event has a payload type here and an event in
// the newest release's log (a new type is the moment to record a release),
// and the log and dumps name what the story made.
func TestGoldenLogCoversTheCatalogsLife(t *testing.T) {
	t.Parallel()
	rs := releases(t)
	newest := rs[0]
	for _, r := range rs[1:] {
		if releaseNumber(r.name) > releaseNumber(newest.name) {
			newest = r
		}
	}
	seen := map[event.Type]int{}
	var logText bytes.Buffer
	for _, e := range newest.events {
		seen[event.Type(e.Type)]++
		logText.Write(e.Data)
	}
	for _, typ := range declaredTypes(t) {
		if typ.Latest() != typ {
			continue // an old version, read as the newest one
		}
		if _, ok := payloads[typ]; !ok {
			t.Errorf("%s is declared in domain/event but has no payload type in this package's table (payloads.go)", typ)
		}
		if seen[typ] == 0 {
			t.Errorf("the newest golden log (%s) has no %s event: record a release that writes it (see doc.go)", newest.name, typ)
		}
	}
	for _, want := range []string{
		`"component:default/parcel-notifier"`, // the scaffolded component
		`"owner": "fleet-team"`,               // the edit
		`"reason": "location removed"`,        // the deleted location
		`"backlot.badge.revoked.v1"`,          // a badge awarded, then revoked
		"backlot.scaffolder.task.finished.v1", // the task
		"backlot.migration.target.changed.v1", // the migration
	} {
		if !bytes.Contains(newest.dumps.Catalog, []byte(want)) && !bytes.Contains(newest.dumps.History, []byte(want)) &&
			!bytes.Contains(newest.dumps.Badges, []byte(want)) && !bytes.Contains(logText.Bytes(), []byte(strings.ReplaceAll(want, ": ", ":"))) {
			t.Errorf("golden log and dumps of %s do not mention %s", newest.name, want)
		}
	}
}

// releaseNumber is N of a folder named vN, 0 for another name.
func releaseNumber(name string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(name, "v"))
	return n
}

// TestABrokenEventTypeFailsNamingTheTypeAndTheField changes the golden log
// as a careless change to a payload type would see it, and checks that the
// failure names the event type and the field.
func TestABrokenEventTypeFailsNamingTheTypeAndTheField(t *testing.T) {
	t.Parallel()
	r := releases(t)[0]
	tests := []struct {
		name   string
		typ    event.Type
		change func(map[string]any)
		want   []string
	}{
		{"a field renamed", event.TypeEntityUpserted, func(m map[string]any) { m["entityRef"] = m["ref"]; delete(m, "ref") },
			[]string{"backlot.entity.upserted.v1", "data.entityRef", "event.EntityUpserted"}},
		{"a field retyped", event.TypeBadgeAwarded, func(m map[string]any) { m["levelRank"] = "2" },
			[]string{"backlot.badge.awarded.v1", "levelRank"}},
		{"a nested field renamed", event.TypeTaskFinished, func(m map[string]any) { m["state"] = m["status"]; delete(m, "status") },
			[]string{"backlot.scaffolder.task.finished.v1", "data.state"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events := slices.Clone(r.events)
			i := slices.IndexFunc(events, func(e event.Envelope) bool { return e.Type == string(tt.typ) })
			if i < 0 {
				t.Fatalf("no %s event in the golden log", tt.typ)
			}
			var m map[string]any
			if err := json.Unmarshal(events[i].Data, &m); err != nil {
				t.Fatal(err)
			}
			tt.change(m)
			events[i].Data, _ = json.Marshal(m)
			err := CheckPayloads(events)
			if err == nil {
				t.Fatal("CheckPayloads passed a changed event")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not name %q:\n%v", w, err)
				}
			}
		})
	}
}

// oldVersions are made-up older versions (v0) of event types in the golden
// log: each renames one field of v1 (v1's name → v0's), and its upcaster,
// registered on Backlot's own registry by TestMain, renames it back. The real
// folds then read v0 events exactly as they read the rest of the log.
var oldVersions = []struct {
	v0, v1   event.Type
	from, to string // v1's field name, v0's
}{
	{"backlot.entity.upserted.v0", event.TypeEntityUpserted, "locationId", "location"},
	{"backlot.facts.reported.v0", event.TypeFactsReported, "source", "collector"},
	{"backlot.badge.awarded.v0", event.TypeBadgeAwarded, "policy", "policyId"},
	{"backlot.badge.revoked.v0", event.TypeBadgeRevoked, "policy", "policyId"},
	{"backlot.check.changed.v0", event.TypeCheckChanged, "policy", "policyId"},
}

// renameField returns data with the field from renamed to.
func renameField(data json.RawMessage, from, to string) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	v, ok := m[from]
	if !ok {
		return nil, fmt.Errorf("no field %q", from)
	}
	delete(m, from)
	m[to] = v
	return json.Marshal(m)
}

// TestMain registers the upcasters of oldVersions on Backlot's own registry
// before any test reads an event.
func TestMain(m *testing.M) {
	for _, o := range oldVersions {
		if err := event.RegisterUpcaster(o.v0, o.v1, func(data json.RawMessage) (json.RawMessage, error) {
			return renameField(data, o.to, o.from)
		}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	os.Exit(m.Run())
}

// TestAnOldVersionInTheGoldenLogFoldsAsTheNewOne rewrites the golden log's
// entity upserts, facts and badge events as older versions of their types
// (oldVersions). Upcast first (event.Upcast), they fold to read models
// identical to the committed ones. Handed as stored to the real folds, which
// dispatch on the newest version of each type and decode through the
// upcasters, they fold to the same catalog and badges, and to the same
// history, whose digests record each event as the log stored it (its v0 type
// and digest). The same rewritten data under the v1 type names (no upcaster
// applies) gives other read models, so the comparisons can fail.
func TestAnOldVersionInTheGoldenLogFoldsAsTheNewOne(t *testing.T) {
	t.Parallel()
	r := releases(t)[0]
	old := make([]event.Envelope, len(r.events))
	unread := make([]event.Envelope, len(r.events))
	stored := map[string]*event.Envelope{} // the rewritten events by id
	rewritten := map[event.Type]int{}
	for i, e := range r.events {
		old[i], unread[i] = e, e
		for _, o := range oldVersions {
			if e.Type != string(o.v1) {
				continue
			}
			data, err := renameField(e.Data, o.from, o.to)
			if err != nil {
				t.Fatalf("event %s (%s): %v", e.ID, e.Type, err)
			}
			old[i].Data, old[i].Type, old[i].DataSchema = data, string(o.v0), o.v0.SchemaURI()
			unread[i].Data = data
			stored[e.ID] = &old[i]
			rewritten[o.v1]++
		}
	}
	for _, o := range oldVersions {
		if rewritten[o.v1] == 0 {
			t.Errorf("the golden log holds no %s event to rewrite as %s", o.v1, o.v0)
		}
	}

	read := make([]event.Envelope, len(old))
	for i := range old {
		var err error
		if read[i], err = event.Upcast(old[i]); err != nil {
			t.Fatal(err)
		}
	}
	upcast, _ := replayInto(t, openSQLite(t, t.TempDir()), read)
	compareDumps(t, "the log with v0 events, upcast", "committed", "replayed", r.dumps, upcast)

	got, _ := replayInto(t, openSQLite(t, t.TempDir()), old)
	want := r.dumps
	want.History = storedDigests(t, r.dumps.History, stored)
	compareDumps(t, "the log with v0 events, folded as stored", "committed", "replayed", want, got)

	raw, _ := replayInto(t, openSQLite(t, t.TempDir()), unread)
	for name, f := range map[string][2][]byte{"catalog": {r.dumps.Catalog, raw.Catalog}, "badges": {r.dumps.Badges, raw.Badges}} {
		if diffs, err := Diff(f[0], f[1]); err != nil || len(diffs) == 0 {
			t.Errorf("the v0 data under v1 names gave the committed %s read model (%v): the comparison cannot fail", name, err)
		}
	}
}

// storedDigests returns the history dump with the digests and versions of
// the events in stored (by id) naming their stored type and digest.
func storedDigests(t *testing.T, hist []byte, stored map[string]*event.Envelope) []byte {
	t.Helper()
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(hist, &doc); err != nil {
		t.Fatal(err)
	}
	// The digests name the event's type as "type", the versions as "eventType".
	for section, typeField := range map[string]string{"digests": "type", "versions": "eventType"} {
		var entries []map[string]any
		if err := json.Unmarshal(doc[section], &entries); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, d := range entries {
			if ev, ok := stored[fmt.Sprint(d["eventId"])]; ok {
				d[typeField], d["digest"] = ev.Type, event.Digest(ev)
				n++
			}
		}
		if n == 0 {
			t.Fatalf("the history dump's %s record no rewritten event", section)
		}
		var err error
		if doc[section], err = json.Marshal(entries); err != nil {
			t.Fatal(err)
		}
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}
