package catalogsvc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/internal/catalogsvc"
	"backlot.dev/backlot/internal/ingest"
	"backlot.dev/backlot/projections/catalogstore"
)

// twin is a second service over its own log and store that reads the
// files of another env's root, and refreshes whole locations; each of
// configure changes its reader's configuration.
func twin(t *testing.T, of *env, configure ...func(*ingest.Config)) (*env, *ingest.Reader) {
	t.Helper()
	var reader *ingest.Reader
	e := newEnvWith(t, func(c *catalogsvc.Config) {
		roots, err := ingest.NewRoots([]string{of.root})
		if err != nil {
			t.Fatal(err)
		}
		cfg := ingest.Config{Roots: roots}
		for _, f := range configure {
			f(&cfg)
		}
		reader = ingest.NewReader(cfg)
		c.Reader = reader
	})
	e.root = of.root
	return e, reader
}

// eventsAfter renders the log's events after position after without what
// differs between two services by chance (ids, uids, times, correlation).
func (e *env) eventsAfter(t *testing.T, after int64) ([]string, int64) {
	t.Helper()
	evs, err := e.log.Read(context.Background(), after, 100000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		var data map[string]any
		if err := json.Unmarshal(ev.Data, &data); err != nil {
			t.Fatal(err)
		}
		delete(data, "uid")
		delete(data, "id")
		b, _ := json.Marshal(data)
		out = append(out, ev.Type+" "+ev.Subject+" "+string(b))
		after = ev.Position
	}
	return out, after
}

// catalogOf renders every entity and the location's errors.
func (e *env) catalogOf(t *testing.T, locID string) []string {
	t.Helper()
	ctx := context.Background()
	page, err := e.store.Query(ctx, catalogstore.PageQuery{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range page.Items {
		var body map[string]any
		if err := json.Unmarshal(v.Body, &body); err != nil {
			t.Fatal(err)
		}
		if md, ok := body["metadata"].(map[string]any); ok {
			delete(md, "uid")
			delete(md, "etag")
		}
		b, _ := json.Marshal(body)
		r, _ := json.Marshal(v.Relations)
		st, _ := json.Marshal(v.Status)
		out = append(out, fmt.Sprintf("%s %s %s %s", v.Key, b, r, st))
	}
	slices.Sort(out)
	errs, err := e.store.LocationErrors(ctx, locID)
	if err != nil {
		t.Fatal(err)
	}
	for _, pe := range errs {
		out = append(out, fmt.Sprintf("error %+v", pe))
	}
	return out
}

const locationOf = `apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: NAME
spec:
  targets: [TARGETS]
`

func location(name string, targets ...string) string {
	return strings.NewReplacer("NAME", name, "TARGETS", strings.Join(targets, ", ")).Replace(locationOf)
}

const withText = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: documented
  description:
    $text: ./README.txt
spec:
  type: service
  lifecycle: production
  owner: team-a
`

// TestRefreshingTheChangedFilesWritesWhatAWholeWalkWrites edits, adds and
// removes files of a location step by step. After each step one service
// refreshes only the changed files (RefreshFiles) and another the whole
// location (RefreshLocation): both write the same events and hold the same
// catalog, and the first reads only the changed files and those every walk
// reads again.
func TestRefreshingTheChangedFilesWritesWhatAWholeWalkWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	files := newEnv(t)
	whole, _ := twin(t, files)
	some, reader := twin(t, files)

	files.write(t, "README.txt", "first words")
	files.write(t, "f1.yaml", component("a1", "production")+"---\n"+component("a2", "production"))
	files.write(t, "f2.yaml", component("b1", "production")+"---\n"+component("b2", "experimental"))
	files.write(t, "f3.yaml", component("c1", "production"))
	files.write(t, "f4.yaml", withText)
	for i := range 20 {
		files.write(t, fmt.Sprintf("g%02d.yaml", i), component(fmt.Sprintf("g%02d", i), "production"))
	}
	targets := []string{"./f1.yaml", "./f2.yaml", "./f3.yaml", "./f4.yaml"}
	for i := range 20 {
		targets = append(targets, fmt.Sprintf("./g%02d.yaml", i))
	}
	root := files.write(t, "all.yaml", location("root", targets...))

	resW, err := whole.svc.RegisterLocation(ctx, "user:default/ada", "file", root, false)
	if err != nil {
		t.Fatal(err)
	}
	resS, err := some.svc.RegisterLocation(ctx, "user:default/ada", "file", root, false)
	if err != nil {
		t.Fatal(err)
	}
	locW, locS := resW.Location, resS.Location
	_, afterW := whole.eventsAfter(t, 0)
	_, afterS := some.eventsAfter(t, 0)

	p := func(name string) string { return filepath.Join(files.root, name) }
	steps := []struct {
		name string
		// change changes files and returns the paths a watcher reports.
		change func() []string
		// maxRead bounds the files the refresh of the changed files reads;
		// -1 for a change that needs the whole location read.
		maxRead int64
		// events: whether the step writes any event.
		events bool
	}{
		{"an entity edited", func() []string {
			files.write(t, "f1.yaml", component("a1", "deprecated")+"---\n"+component("a2", "production"))
			return []string{p("f1.yaml")}
		}, 2, true}, // f1, and f4 (a placeholder: read at every walk)
		{"an entity removed from its file", func() []string {
			files.write(t, "f2.yaml", component("b1", "production"))
			return []string{p("f2.yaml")}
		}, 2, true},
		{"an editor's copy renamed over a file", func() []string {
			tmp := files.write(t, ".f3.yaml.swp", component("c1", "experimental"))
			if err := os.Rename(tmp, p("f3.yaml")); err != nil {
				t.Fatal(err)
			}
			return []string{tmp, p("f3.yaml")}
		}, 2, true},
		{"a copy of another file's entity", func() []string {
			files.write(t, "f1.yaml", component("a1", "deprecated")+"---\n"+component("a2", "production")+"---\n"+component("c1", "production"))
			return []string{p("f1.yaml")}
		}, 2, true},
		{"an entity moved between files", func() []string {
			files.write(t, "f1.yaml", component("a1", "deprecated"))
			files.write(t, "f2.yaml", component("b1", "production")+"---\n"+component("a2", "production"))
			return []string{p("f1.yaml"), p("f2.yaml")}
		}, 3, true},
		{"a broken document", func() []string {
			files.write(t, "f2.yaml", component("b1", "production")+"---\n"+strings.Replace(component("a2", "production"), "lifecycle: production", "lifecycle: [x", 1))
			return []string{p("f2.yaml")}
		}, 2, true},
		{"the broken document fixed under another name", func() []string {
			files.write(t, "f2.yaml", component("b1", "production")+"---\n"+component("a3", "production"))
			return []string{p("f2.yaml")}
		}, 2, true},
		{"an invalid entity", func() []string {
			files.write(t, "g03.yaml", strings.Replace(component("g03", "production"), "owner: team-a", "owner: ''", 1))
			return []string{p("g03.yaml")}
		}, 2, true},
		{"an invalid copy of an entity a kept file yields", func() []string {
			files.write(t, "g05.yaml", component("g05", "production")+"---\n"+strings.Replace(component("g01", "production"), "owner: team-a", "owner: ''", 1))
			return []string{p("g05.yaml")}
		}, 3, true}, // g05, g03 and f4
		{"the invalid entity fixed", func() []string {
			files.write(t, "g03.yaml", component("g03", "production"))
			files.write(t, "g05.yaml", component("g05", "production"))
			return []string{p("g03.yaml"), p("g05.yaml")}
		}, 3, true},
		{"a file a placeholder reads", func() []string {
			files.write(t, "README.txt", "second words")
			return []string{p("README.txt")}
		}, 1, true},
		{"a file of no location", func() []string {
			return []string{files.write(t, "notes.txt", "nothing")}
		}, 0, false},
		{"the same content written again", func() []string {
			files.write(t, "g07.yaml", component("g07", "production"))
			return []string{p("g07.yaml")}
		}, 2, false},
		{"a file emptied", func() []string {
			files.write(t, "g08.yaml", "")
			return []string{p("g08.yaml")}
		}, 2, true},
		{"a target added", func() []string {
			files.write(t, "f5.yaml", component("e1", "production"))
			files.write(t, "all.yaml", location("root", append(slices.Clone(targets), "./f5.yaml")...))
			return []string{p("all.yaml"), p("f5.yaml")}
		}, -1, true},
		{"an edit after the whole walk", func() []string {
			files.write(t, "f5.yaml", component("e1", "experimental"))
			return []string{p("f5.yaml")}
		}, 2, true},
		{"a file removed", func() []string {
			if err := os.Remove(p("f3.yaml")); err != nil {
				t.Fatal(err)
			}
			return []string{p("f3.yaml")}
		}, -1, true},
		{"the file back", func() []string {
			files.write(t, "f3.yaml", component("c1", "production"))
			return []string{p("f3.yaml")}
		}, -1, true},
		{"a target dropped while its entity's new home is broken", func() []string {
			files.write(t, "all.yaml", location("root", slices.DeleteFunc(append(slices.Clone(targets), "./f5.yaml"), func(s string) bool { return s == "./g10.yaml" })...))
			files.write(t, "f2.yaml", component("b1", "production")+"---\n"+strings.Replace(component("g10", "production"), "owner: team-a", "owner: ''", 1))
			return []string{p("all.yaml"), p("f2.yaml")}
		}, -1, true},
		{"the new home fixed under another name", func() []string {
			files.write(t, "f2.yaml", component("b1", "production")+"---\n"+component("h1", "production"))
			return []string{p("f2.yaml")}
		}, 2, true},
		{"a folder created", func() []string {
			if err := os.Mkdir(p("sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			return []string{p("sub")}
		}, 0, false},
	}
	for _, st := range steps {
		// Every file looks just written (a time ahead): a walk of the
		// whole location reads each one, where a file settled for 3 s is
		// known unchanged by its size and time.
		ahead := time.Now().Add(time.Hour)
		entries, err := os.ReadDir(files.root)
		if err != nil {
			t.Fatal(err)
		}
		for _, de := range entries {
			if err := os.Chtimes(filepath.Join(files.root, de.Name()), ahead, ahead); err != nil {
				t.Fatal(err)
			}
		}
		paths := st.change()
		before := reader.FilesRead()
		if _, err := some.svc.RefreshFiles(ctx, locS, paths); err != nil {
			t.Fatalf("%s: refresh of the changed files: %v", st.name, err)
		}
		read := reader.FilesRead() - before
		if _, err := whole.svc.RefreshLocation(ctx, locW); err != nil {
			t.Fatalf("%s: refresh of the location: %v", st.name, err)
		}
		var evW, evS []string
		evW, afterW = whole.eventsAfter(t, afterW)
		evS, afterS = some.eventsAfter(t, afterS)
		for i := range evS {
			evS[i] = strings.ReplaceAll(evS[i], locS.ID, locW.ID)
		}
		if !slices.Equal(evS, evW) {
			t.Fatalf("%s: the refresh of the changed files wrote\n%s\nthe refresh of the location\n%s", st.name, strings.Join(evS, "\n"), strings.Join(evW, "\n"))
		}
		if got := len(evW) > 0; got != st.events {
			t.Fatalf("%s: events written %v, want %v:\n%s", st.name, got, st.events, strings.Join(evW, "\n"))
		}
		cS, cW := some.catalogOf(t, locS.ID), whole.catalogOf(t, locW.ID)
		for i := range cS {
			cS[i] = strings.ReplaceAll(cS[i], locS.ID, locW.ID)
		}
		if !slices.Equal(cS, cW) {
			t.Fatalf("%s: catalogs differ:\n%s\nand\n%s", st.name, strings.Join(cS, "\n"), strings.Join(cW, "\n"))
		}
		switch {
		case st.maxRead < 0 && read < 20:
			t.Fatalf("%s: %d files read; a change of the location's shape must read it whole", st.name, read)
		case st.maxRead >= 0 && read > st.maxRead:
			t.Fatalf("%s: %d files read, want at most %d", st.name, read, st.maxRead)
		}
		t.Logf("%s: %d events, %d files read", st.name, len(evW), read)
	}
}
