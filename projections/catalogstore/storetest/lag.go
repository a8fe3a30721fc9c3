package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
)

// LagStore is a store whose counts and facet answers go through a
// catalogstore.LagCache, with the work it counted.
type LagStore interface {
	catalogstore.Store
	LagStats() catalogstore.LagStats
}

// LagOpener opens a fresh, empty store whose lagging cache has opts; the store
// is closed by the opener's cleanup.
type LagOpener func(t *testing.T, opts catalogstore.LagOptions) LagStore

// RunLag runs the cases of the lagging count and facet cache against the
// stores open makes, with a cap of 5 matches: above it, a request right after
// a write is answered with the previous answer and one background recompute
// brings the new one; below it, every answer is exact and fresh.
func RunLag(t *testing.T, open LagOpener) {
	cases := []struct {
		name string
		run  func(t *testing.T, open LagOpener)
	}{
		{"TotalsAboveTheCapLagThenRefresh", testTotalsLag},
		{"FacetsAboveTheCapLagThenRefresh", testFacetsLag},
		{"ConcurrentRequestsStartOneRecompute", testOneRecompute},
		{"BelowTheCapAnswersAreExact", testBelowCapExact},
		{"AnswersOlderThanMaxLagAreRecomputed", testMaxLag},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, open)
		})
	}
}

// lagCap is the ExactUpTo of the lag cases.
const lagCap = 5

var componentsTotal = catalogstore.PageQuery{Filter: catalogstore.Filter{{{Key: "kind", Values: []string{"component"}}}}, CountTotal: true, Limit: 1}

func total(t *testing.T, s LagStore) int {
	t.Helper()
	p, err := s.Query(context.Background(), componentsTotal)
	if err != nil {
		t.Fatal(err)
	}
	return p.TotalItems
}

func kindFacet(t *testing.T, s LagStore, facet string) int {
	t.Helper()
	f, err := s.Facets(context.Background(), []string{facet}, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range f[facet] {
		n += c.Count
	}
	return n
}

// waitFor asks until ask answers want, failing after 10 seconds.
func waitFor(t *testing.T, what string, want int, ask func() int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := ask()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is still %d, want %d after the refresh", what, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func apply(t *testing.T, s LagStore, evs []event.Envelope) {
	t.Helper()
	if err := s.Apply(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
}

// lagged checks the answers of ask around one write: before it, want (with
// recomputes only on the first ask); right after it, still want, with no
// recompute on the request; then want+1 within the deadline, after exactly one
// background recompute.
func lagged(t *testing.T, s LagStore, what string, want int, ask func() int, write func()) {
	t.Helper()
	if got := ask(); got != want {
		t.Fatalf("%s is %d, want %d", what, got, want)
	}
	before := s.LagStats()
	if got := ask(); got != want {
		t.Fatalf("%s asked again is %d, want %d", what, got, want)
	}
	if st := s.LagStats(); st.Recomputes != before.Recomputes {
		t.Fatalf("%s asked again with no write recomputed (%d, then %d)", what, before.Recomputes, st.Recomputes)
	}
	write()
	if got := ask(); got != want {
		t.Fatalf("%s right after a write is %d, want the previous answer %d (counted again on the request?)", what, got, want)
	}
	if st := s.LagStats(); st.Lagging <= before.Lagging {
		t.Fatalf("%s right after a write was not counted as lagging: %+v", what, st)
	}
	waitFor(t, what, want+1, ask)
	if st := s.LagStats(); st.Recomputes != before.Recomputes+1 {
		t.Fatalf("%s: %d recomputes after one write, want 1", what, st.Recomputes-before.Recomputes)
	}
}

func testTotalsLag(t *testing.T, open LagOpener) {
	s := open(t, catalogstore.LagOptions{ExactUpTo: lagCap, MaxLag: time.Minute, RefreshEvery: time.Nanosecond})
	evs := Components(t, 0, 11)
	apply(t, s, evs[:10])
	lagged(t, s, "the total", 10, func() int { return total(t, s) }, func() { apply(t, s, evs[10:]) })
}

func testFacetsLag(t *testing.T, open LagOpener) {
	s := open(t, catalogstore.LagOptions{ExactUpTo: lagCap, MaxLag: time.Minute, RefreshEvery: time.Nanosecond})
	evs := Components(t, 0, 11)
	apply(t, s, evs[:10])
	lagged(t, s, "the kind facet", 10, func() int { return kindFacet(t, s, "kind") }, func() { apply(t, s, evs[10:]) })
}

// concurrently runs ask from 8 goroutines at once and returns their answers.
func concurrently(ask func() (int, error)) ([]int, error) {
	const n = 8
	out := make([]int, n)
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			out[i], errs[i] = ask()
		}()
	}
	start.Done()
	done.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func testOneRecompute(t *testing.T, open LagOpener) {
	ctx := context.Background()
	s := open(t, catalogstore.LagOptions{ExactUpTo: lagCap, MaxLag: time.Minute, RefreshEvery: time.Nanosecond})
	evs := Components(t, 0, 12)
	apply(t, s, evs[:10])
	facet := func() (int, error) {
		f, err := s.Facets(ctx, []string{"spec.lifecycle"}, nil)
		n := 0
		for _, c := range f["spec.lifecycle"] {
			n += c.Count
		}
		return n, err
	}
	// No answer yet: the first requests wait for one computation.
	before := s.LagStats()
	got, err := concurrently(facet)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range got {
		if n != 10 {
			t.Fatalf("first answers %v, want 10 each", got)
		}
	}
	if st := s.LagStats(); st.Recomputes != before.Recomputes+1 {
		t.Fatalf("8 first requests at once ran %d computations, want 1", st.Recomputes-before.Recomputes)
	}
	// After a write: the previous answer (or the new one, if the refresh was
	// quick), and one background recompute.
	apply(t, s, evs[10:11])
	before = s.LagStats()
	got, err = concurrently(facet)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range got {
		if n != 10 && n != 11 {
			t.Fatalf("answers after a write %v, want 10 or 11 each", got)
		}
	}
	waitFor(t, "the lifecycle facet", 11, func() int {
		n, err := facet()
		if err != nil {
			t.Fatal(err)
		}
		return n
	})
	if st := s.LagStats(); st.Recomputes != before.Recomputes+1 {
		t.Fatalf("8 requests at once after a write started %d recomputes, want 1", st.Recomputes-before.Recomputes)
	}
}

func testBelowCapExact(t *testing.T, open LagOpener) {
	ctx := context.Background()
	s := open(t, catalogstore.LagOptions{ExactUpTo: lagCap, MaxLag: time.Minute, RefreshEvery: time.Nanosecond})
	evs := Components(t, 0, 12)
	apply(t, s, evs[:11])
	f := catalogstore.Filter{{{Key: "metadata.name", Values: []string{"service-1", "service-11"}}}}
	q := catalogstore.PageQuery{Filter: f, CountTotal: true, Limit: 1}
	ask := func() (int, int) {
		p, err := s.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		fs, err := s.Facets(ctx, []string{"kind"}, f)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range fs["kind"] {
			n += c.Count
		}
		return p.TotalItems, n
	}
	before := s.LagStats()
	if tot, fc := ask(); tot != 1 || fc != 1 {
		t.Fatalf("total %d and facet %d, want 1 and 1", tot, fc)
	}
	apply(t, s, evs[11:])
	if tot, fc := ask(); tot != 2 || fc != 2 {
		t.Fatalf("right after a write: total %d and facet %d, want 2 and 2 (exact below the cap)", tot, fc)
	}
	if st := s.LagStats(); st != before {
		t.Fatalf("answers below the cap ran full recomputes or lagged: %+v, then %+v", before, st)
	}
}

func testMaxLag(t *testing.T, open LagOpener) {
	s := open(t, catalogstore.LagOptions{ExactUpTo: lagCap, MaxLag: time.Nanosecond})
	evs := Components(t, 0, 11)
	apply(t, s, evs[:10])
	if n := total(t, s); n != 10 {
		t.Fatalf("total %d, want 10", n)
	}
	time.Sleep(time.Millisecond) // the answer is now older than MaxLag
	apply(t, s, evs[10:])
	before := s.LagStats()
	if n := total(t, s); n != 11 {
		t.Fatalf("right after a write, with an answer older than MaxLag, total %d, want 11", n)
	}
	if st := s.LagStats(); st.Recomputes != before.Recomputes+1 || st.Lagging != before.Lagging {
		t.Fatalf("an answer older than MaxLag was not recomputed on the request: %+v, then %+v", before, st)
	}
}
