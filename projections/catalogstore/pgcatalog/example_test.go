package pgcatalog_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"backlot.dev/backlot/internal/pglease"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
)

// A projector process opens the read model (which migrates it), applies the
// batches of its partitions, and readers query it; the location lock of the
// ingesters shares the store's connection pool.
func ExampleOpen() {
	ctx := context.Background()
	store, err := pgcatalog.Open(ctx, os.Getenv("BACKLOT_POSTGRES_URL"), pgcatalog.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	// store.Apply(ctx, batch) in the projector; then, anywhere:
	page, err := store.Query(ctx, catalogstore.PageQuery{
		Filter:     catalogstore.Filter{{{Key: "kind", Values: []string{"component"}}, {Key: "spec.type", Values: []string{"service"}}}},
		Limit:      20,
		CountTotal: true,
	})
	if err != nil {
		log.Fatal(err) // the database is down: answer 503
	}
	fmt.Println(page.TotalItems, len(page.Items))

	lock, err := pglease.New(ctx, store.Pool(), "", pglease.Options{})
	if err != nil {
		log.Fatal(err)
	}
	lease, err := lock.Acquire(ctx, "location-id")
	if err != nil {
		log.Fatal(err)
	}
	defer lease.Release()
}
