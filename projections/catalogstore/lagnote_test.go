package catalogstore_test

import (
	"context"
	"testing"
	"time"

	"backlot.dev/backlot/projections/catalogstore"
)

func TestLagNoteRecordsOnlyLaggingAnswers(t *testing.T) {
	t.Parallel()
	c := catalogstore.NewLagCache(catalogstore.LagOptions{ExactUpTo: 1, MaxLag: time.Minute, RefreshEvery: time.Minute})
	full := func(gen string) catalogstore.FullFunc {
		return func(context.Context, int) (any, string, bool, error) { return 7, gen, false, nil }
	}
	// The first answer is computed on the request: exact, nothing noted.
	ctx, note := catalogstore.WithLagNote(context.Background())
	if _, err := c.Get(ctx, "k", "g1", bigSmall, full("g1")); err != nil {
		t.Fatal(err)
	}
	if lag, age := note.Lagging(); lag || age != 0 {
		t.Fatalf("an exact answer was noted as lagging (%v, %v)", lag, age)
	}
	// At the same generation it is served as it is: still exact.
	if _, err := c.Get(ctx, "k", "g1", bigSmall, full("g1")); err != nil {
		t.Fatal(err)
	}
	if lag, _ := note.Lagging(); lag {
		t.Fatal("an answer of the read model's generation was noted as lagging")
	}
	time.Sleep(20 * time.Millisecond)
	// After a write the previous answer is served: noted, with its age.
	ctx2, note2 := catalogstore.WithLagNote(context.Background())
	a, err := c.Get(ctx2, "k", "g2", bigSmall, full("g2"))
	if err != nil || !a.Lagging {
		t.Fatalf("answer after a write %+v (%v), want lagging", a, err)
	}
	lag, age := note2.Lagging()
	if !lag || age < 20*time.Millisecond || age > time.Minute {
		t.Fatalf("note after a lagging answer: %v, age %v; want lagging, at least 20ms old", lag, age)
	}
	if lag, _ := note.Lagging(); lag {
		t.Fatal("another request's note was marked")
	}
	// A context without a note is fine.
	if _, err := c.Get(context.Background(), "k", "g3", bigSmall, full("g3")); err != nil {
		t.Fatal(err)
	}
}
