package catalogsvc_test

import (
	"context"
	"fmt"
	"iter"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/domain/refresh"
	"backlot.dev/backlot/internal/catalogsvc"
	"backlot.dev/backlot/internal/ingest"
	"backlot.dev/backlot/projections/catalogstore"
)

// twinParsingEveryDocument is twin with a reader that parses every document
// of a changed file (ingest.Config.ParseEveryDocument): the reference.
func twinParsingEveryDocument(t *testing.T, of *env) (*env, *ingest.Reader) {
	t.Helper()
	return twin(t, of, func(c *ingest.Config) { c.ParseEveryDocument = true })
}

// TestAnEditOfOneDocumentParsesThatDocument edits the documents of a file
// of many step by step. After each step one service refreshes the changed
// files (RefreshFiles), another the whole location (RefreshLocation), both
// parsing only the documents whose text changed, and a third the whole
// location parsing every document of a changed file: all three write the
// same events and hold the same catalog, and the first parses at most the
// step's documents.
func TestAnEditOfOneDocumentParsesThatDocument(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	files := newEnv(t)
	some, reader := twin(t, files)
	whole, _ := twin(t, files)
	every, _ := twinParsingEveryDocument(t, files)

	many := func(edit func(i int) string) string {
		var docs []string
		for i := range 30 {
			docs = append(docs, edit(i))
		}
		return strings.Join(docs, "---\n")
	}
	plain := func(i int) string { return component(fmt.Sprintf("m%02d", i), "production") }
	files.write(t, "a.yaml", component("a1", "production")+"---\n"+component("a2", "production"))
	files.write(t, "many.yaml", many(plain))
	root := files.write(t, "all.yaml", location("root", "./a.yaml", "./many.yaml"))

	envs := []*env{some, whole, every}
	locs := make([]catalogstore.Location, len(envs))
	after := make([]int64, len(envs))
	for i, e := range envs {
		res, err := e.svc.RegisterLocation(ctx, "user:default/ada", "file", root, false)
		if err != nil {
			t.Fatal(err)
		}
		locs[i] = res.Location
		_, after[i] = e.eventsAfter(t, 0)
	}
	p := func(name string) string { return filepath.Join(files.root, name) }
	steps := []struct {
		name   string
		change func() []string
		// maxParsed bounds the documents the refresh of the changed files
		// parses; -1 for no bound.
		maxParsed int64
		events    bool
	}{
		{"one entity of many edited", func() []string {
			files.write(t, "many.yaml", many(func(i int) string {
				if i == 10 {
					return component("m10", "deprecated")
				}
				return plain(i)
			}))
			return []string{p("many.yaml")}
		}, 1, true},
		{"another edited, the first kept", func() []string {
			files.write(t, "many.yaml", many(func(i int) string {
				switch i {
				case 10:
					return component("m10", "deprecated")
				case 29:
					return component("m29", "experimental")
				}
				return plain(i)
			}))
			return []string{p("many.yaml")}
		}, 1, true},
		{"an entity renamed to a later one's name", func() []string {
			files.write(t, "many.yaml", many(func(i int) string {
				if i == 3 {
					return component("m20", "deprecated")
				}
				return plain(i)
			}))
			// m03 renamed (parsed), m20 a copy now (parsed to be
			// refused), m10 and m29 back as they were.
			return []string{p("many.yaml")}
		}, 4, true},
		{"the copy undone", func() []string {
			files.write(t, "many.yaml", many(plain))
			return []string{p("many.yaml")}
		}, -1, true}, // a file with a refused entity was not remembered
		{"an earlier file takes an entity", func() []string {
			files.write(t, "a.yaml", component("a1", "production")+"---\n"+component("a2", "production")+"---\n"+component("m25", "deprecated"))
			return []string{p("a.yaml")}
		}, 1, true},
		{"the file that lost it edited", func() []string {
			files.write(t, "many.yaml", many(func(i int) string {
				if i == 5 {
					return component("m05", "deprecated")
				}
				return plain(i)
			}))
			// m05, and m25, which the read model holds from a.yaml now.
			return []string{p("many.yaml")}
		}, 2, true},
		{"the entity given back", func() []string {
			files.write(t, "a.yaml", component("a1", "production")+"---\n"+component("a2", "production"))
			return []string{p("a.yaml")}
		}, -1, true},
		{"a document inserted before the others", func() []string {
			files.write(t, "many.yaml", component("m99", "production")+"---\n"+many(plain))
			return []string{p("many.yaml")}
		}, -1, true},
		{"it removed", func() []string {
			files.write(t, "many.yaml", many(plain))
			return []string{p("many.yaml")}
		}, -1, true},
		{"a broken document", func() []string {
			files.write(t, "many.yaml", many(func(i int) string {
				if i == 7 {
					return strings.Replace(plain(i), "lifecycle: production", "lifecycle: [x", 1)
				}
				return plain(i)
			}))
			return []string{p("many.yaml")}
		}, 1, true},
		{"the broken document fixed", func() []string {
			files.write(t, "many.yaml", many(plain))
			return []string{p("many.yaml")}
		}, -1, true},
		{"one entity edited again", func() []string {
			files.write(t, "many.yaml", many(func(i int) string {
				if i == 12 {
					return component("m12", "deprecated")
				}
				return plain(i)
			}))
			return []string{p("many.yaml")}
		}, 1, true},
		{"one entity removed", func() []string {
			files.write(t, "many.yaml", many(func(i int) string {
				if i == 29 {
					return ""
				}
				if i == 12 {
					return component("m12", "deprecated")
				}
				return plain(i)
			}))
			return []string{p("many.yaml")}
		}, 0, true},
	}
	for _, st := range steps {
		ahead := time.Now().Add(time.Hour)
		// Every file looks just written: a walk of the whole location
		// reads each one (see TestRefreshingTheChangedFilesWritesWhatAWholeWalkWrites).
		for _, f := range []string{"a.yaml", "many.yaml", "all.yaml"} {
			if err := os.Chtimes(p(f), ahead, ahead); err != nil {
				t.Fatal(err)
			}
		}
		paths := st.change()
		before := reader.DocumentsParsed()
		if _, err := some.svc.RefreshFiles(ctx, locs[0], paths); err != nil {
			t.Fatalf("%s: refresh of the changed files: %v", st.name, err)
		}
		parsed := reader.DocumentsParsed() - before
		for i, e := range envs[1:] {
			if _, err := e.svc.RefreshLocation(ctx, locs[i+1]); err != nil {
				t.Fatalf("%s: refresh of the location: %v", st.name, err)
			}
		}
		var evs, cats [3][]string
		for i, e := range envs {
			evs[i], after[i] = e.eventsAfter(t, after[i])
			cats[i] = e.catalogOf(t, locs[i].ID)
			for j := range evs[i] {
				evs[i][j] = strings.ReplaceAll(evs[i][j], locs[i].ID, "LOC")
			}
			for j := range cats[i] {
				cats[i][j] = strings.ReplaceAll(cats[i][j], locs[i].ID, "LOC")
			}
		}
		for i, name := range []string{"the refresh of the changed files", "the refresh of the location"} {
			if !slices.Equal(evs[i], evs[2]) {
				t.Fatalf("%s: %s wrote\n%s\nthe refresh parsing every document\n%s", st.name, name, strings.Join(evs[i], "\n"), strings.Join(evs[2], "\n"))
			}
			if !slices.Equal(cats[i], cats[2]) {
				t.Fatalf("%s: after %s the catalog is\n%s\nafter the refresh parsing every document\n%s", st.name, name, strings.Join(cats[i], "\n"), strings.Join(cats[2], "\n"))
			}
		}
		if got := len(evs[2]) > 0; got != st.events {
			t.Fatalf("%s: events written %v, want %v:\n%s", st.name, got, st.events, strings.Join(evs[2], "\n"))
		}
		if st.maxParsed >= 0 && parsed > st.maxParsed {
			t.Fatalf("%s: %d documents parsed, want at most %d", st.name, parsed, st.maxParsed)
		}
		t.Logf("%s: %d events, %d documents parsed", st.name, len(evs[2]), parsed)
	}
}

// countingStore counts the reads of the refresh states it hands out.
type countingStore struct {
	catalogstore.Store
	reads map[string]int
}

func (s *countingStore) Snapshot(ctx context.Context, locationID string) (refresh.State, error) {
	st, err := s.Store.Snapshot(ctx, locationID)
	if err != nil {
		return nil, err
	}
	return &countingState{FileState: st.(refresh.FileState), reads: s.reads}, nil
}

type countingState struct {
	refresh.FileState
	reads map[string]int
}

func (c *countingState) Lookup(key string) (refresh.Known, bool) {
	c.reads["Lookup"]++
	return c.FileState.Lookup(key)
}

func (c *countingState) Owned(loc string, except map[string]bool) iter.Seq[refresh.Known] {
	c.reads["Owned"]++
	return c.FileState.Owned(loc, except)
}

func (c *countingState) OwnedBy(loc string, files []string) iter.Seq[refresh.Known] {
	c.reads["OwnedBy"]++
	return c.FileState.OwnedBy(loc, files)
}

func (c *countingState) Prefetch(keys []string) {
	c.reads["Prefetch"]++
	if p, ok := c.FileState.(interface{ Prefetch([]string) }); ok {
		p.Prefetch(keys)
	}
}

// TestAnEditOfOneEntityReadsItsFileOnce edits one entity of a file of many:
// the refresh of the changed file reads the file's entities from the read
// model once (OwnedBy), for the documents it does not parse, for the one it
// parses and for the removals, and looks up nothing else.
func TestAnEditOfOneEntityReadsItsFileOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reads := map[string]int{}
	e := newEnvWith(t, func(c *catalogsvc.Config) {
		c.Store = &countingStore{Store: c.Store, reads: reads}
	})
	var docs []string
	for i := range 20 {
		docs = append(docs, component(fmt.Sprintf("m%02d", i), "production"))
	}
	file := e.write(t, "many.yaml", strings.Join(docs, "---\n"))
	res, err := e.svc.RegisterLocation(ctx, "user:default/ada", "file", file, false)
	if err != nil {
		t.Fatal(err)
	}
	docs[7] = component("m07", "deprecated")
	e.write(t, "many.yaml", strings.Join(docs, "---\n"))
	clear(reads)
	out, err := e.svc.RefreshFiles(ctx, res.Location, []string{file})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Positions) == 0 {
		t.Fatal("the edit wrote no event")
	}
	if want := map[string]int{"OwnedBy": 1}; !maps.Equal(reads, want) {
		t.Fatalf("the refresh read the read model %v times, want %v", reads, want)
	}
}
