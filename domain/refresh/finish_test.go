package refresh_test

import (
	"fmt"
	"iter"
	"slices"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/refresh"
)

// fileState is a fakeState that lists by file and counts what it reads.
type fileState struct {
	fakeState
	// files are the files in the store's order.
	files []string
	// ownedCalls and ownedByFiles count the reads of the whole location
	// and the files read one by one.
	ownedCalls   int
	ownedByFiles []string
}

func (f *fileState) Owned(loc string, except map[string]bool) iter.Seq[refresh.Known] {
	f.ownedCalls++
	return func(yield func(refresh.Known) bool) {
		for _, file := range f.files {
			if except[file] {
				continue
			}
			for k := range f.byFile(loc, file) {
				if !yield(k) {
					return
				}
			}
		}
	}
}

func (f *fileState) OwnedBy(loc string, files []string) iter.Seq[refresh.Known] {
	return func(yield func(refresh.Known) bool) {
		for _, file := range files {
			f.ownedByFiles = append(f.ownedByFiles, file)
			for k := range f.byFile(loc, file) {
				if !yield(k) {
					return
				}
			}
		}
	}
}

// byFile yields a file's entities in an order that is not the keys'.
func (f *fileState) byFile(loc, file string) iter.Seq[refresh.Known] {
	var ks []refresh.Known
	for _, k := range f.known {
		if k.LocationID == loc && k.ManagedBy == file {
			ks = append(ks, k)
		}
	}
	slices.SortFunc(ks, func(a, b refresh.Known) int { return -strings.Compare(a.Key, b.Key) })
	return slices.Values(ks)
}

// newFileState holds n entities in each of files.
func newFileState(files []string, n int) *fileState {
	st := &fileState{fakeState: fakeState{known: map[string]refresh.Known{}, errs: map[string][]event.ProcessingError{}}, files: files}
	for fi, f := range files {
		for i := range n {
			key := fmt.Sprintf("component:default/e-%d-%02d", fi, i)
			st.known[key] = refresh.Known{Key: key, UID: key, Hash: "h", LocationID: loc.ID, ManagedBy: f}
		}
	}
	return st
}

// TestFinishEachHandsOutBoundedChunks: a location whose three files all
// disappeared is removed in chunks of at most the size asked, file by file
// in the store's order and each file's in key order, the errors' event
// last.
func TestFinishEachHandsOutBoundedChunks(t *testing.T) {
	t.Parallel()
	files := []string{"file:/c/b.yaml", "file:/c/a.yaml", "file:/c/c.yaml"}
	st := newFileState(files, 9)
	d := refresh.NewDecider(loc, st, event.Meta{}, func() string { return "new" })
	d.Fail(event.ProcessingError{File: "file:/c/catalog.yaml", Document: -1, Name: "NotFoundError", Message: "gone"})
	var chunks [][]event.Envelope
	if err := d.FinishEach(4, func(evs []event.Envelope) error {
		chunks = append(chunks, slices.Clone(evs))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var all []event.Envelope
	for i, c := range chunks {
		if len(c) == 0 || len(c) > 4 {
			t.Fatalf("chunk %d holds %d events, want 1 to 4", i, len(c))
		}
		all = append(all, c...)
	}
	if len(all) != 28 {
		t.Fatalf("%d events, want 27 removals and the errors' event", len(all))
	}
	var want []string
	for _, fi := range []int{0, 1, 2} { // b, a, c: the store's order
		for i := range 9 {
			want = append(want, fmt.Sprintf("backlot.entity.removed.v1 component:default/e-%d-%02d", fi, i))
		}
	}
	want = append(want, "backlot.processing.error.recorded.v1 "+loc.EntityRef)
	if got := types(all); !slices.Equal(got, want) {
		t.Fatalf("FinishEach decided\n %v\nwant\n %v", got, want)
	}
	whole, err := refresh.NewDecider(loc, st, event.Meta{}, func() string { return "new" }).Finish()
	if err != nil {
		t.Fatal(err)
	}
	if got := types(whole); !slices.Equal(got, want[:27]) {
		t.Fatalf("Finish decided\n %v\nwant\n %v", got, want[:27])
	}
}

// TestAScopedFinishReadsOnlyItsFiles: a decision scoped to the files a
// refresh re-read reads those files' entities alone (and the keys it was
// handed), never the whole location, and removes what they no longer
// yield, together with a kept entity whose file the location no longer
// reads.
func TestAScopedFinishReadsOnlyItsFiles(t *testing.T) {
	t.Parallel()
	files := []string{"file:/c/a.yaml", "file:/c/b.yaml", "file:/c/c.yaml", "file:/c/d.yaml"}
	st := newFileState(files, 3)
	d := refresh.NewDecider(loc, st, event.Meta{}, func() string { return "new" })
	for _, f := range []string{"file:/c/a.yaml", "file:/c/c.yaml"} {
		d.KeepFile(f)
	}
	// b.yaml was re-read and yields e-1-00 alone; d.yaml is no longer
	// read, and e-3-01 was kept at the last refresh for a broken document.
	if _, err := d.Observe(refresh.Observed{Entity: entity(t, "e-1-00", "x"), ManagedBy: "file:/c/b.yaml"}); err != nil {
		t.Fatal(err)
	}
	st.known["component:default/e-1-00"] = refresh.Known{Key: "component:default/e-1-00", UID: "u", Hash: "other", LocationID: loc.ID, ManagedBy: "file:/c/b.yaml"}
	d.Scope([]string{"file:/c/b.yaml"}, []string{"component:default/e-3-01", "component:default/e-0-00", "component:default/e-3-01"})
	evs, err := d.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if st.ownedCalls != 0 || !slices.Equal(st.ownedByFiles, []string{"file:/c/b.yaml"}) {
		t.Fatalf("the scoped decision read the location %d times and the files %v; want only b.yaml", st.ownedCalls, st.ownedByFiles)
	}
	want := []string{
		"backlot.entity.removed.v1 component:default/e-1-01",
		"backlot.entity.removed.v1 component:default/e-1-02",
		"backlot.entity.removed.v1 component:default/e-3-01",
	}
	if got := types(evs); !slices.Equal(got, want) {
		t.Fatalf("Finish decided\n %v\nwant\n %v", got, want)
	}
}
