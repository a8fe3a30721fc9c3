package pgcatalog_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
)

// A process that did not write a key (an api process beside the projector)
// learns its id from the first query that names it, by looking that key up
// alone: the next statement names the key by its id, and the process does
// not load every key of the catalog to learn one.
func TestAQueryLearnsTheIdOfAKeyAnotherProcessWrote(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	writer, err := pgcatalog.Open(ctx, url, pgcatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { writer.Close() })
	if err := writer.Apply(ctx, storetest.Components(t, 0, 300)); err != nil {
		t.Fatal(err)
	}
	reader, err := pgcatalog.Open(ctx, url, pgcatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reader.Close() })

	q := catalogstore.PageQuery{Filter: catalogstore.Filter{{{Key: "spec.lifecycle", Values: []string{"production"}}}}, Limit: 10}
	subquery := func() bool {
		stmt, _ := pgcatalog.PageStatement(reader, q)
		return strings.Contains(stmt, "FROM search_keys")
	}
	if !subquery() {
		t.Fatal("a store that never saw spec.lifecycle named it by an id")
	}
	deadline := time.Now().Add(30 * time.Second)
	for subquery() {
		if time.Now().After(deadline) {
			t.Fatal("the reader never learned the id of spec.lifecycle")
		}
		time.Sleep(20 * time.Millisecond)
	}
	page, err := reader.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 10 {
		t.Fatalf("the page by the key's id holds %d entities, want 10", len(page.Items))
	}
	if n := pgcatalog.CachedKeys(reader); n > 10 {
		t.Fatalf("the reader keeps %d keys after one query named one, want a few", n)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var written int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM search_keys`).Scan(&written); err != nil {
		t.Fatal(err)
	}
	if n := pgcatalog.CachedKeys(writer); n < written || written < 15 {
		t.Fatalf("the writer keeps %d keys of the %d it wrote, want them all", n, written)
	}
}
