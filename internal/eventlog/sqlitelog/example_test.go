package sqlitelog_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
)

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "backlot-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	l, err := sqlitelog.Open(filepath.Join(dir, "events.db"), sqlitelog.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	ctx := context.Background()
	e, err := event.New(event.TypeLocationRegistered, "location:default/generated-1",
		event.LocationRegistered{ID: "1", Type: "file", Target: "catalog-info.yaml"},
		event.Meta{Actor: "user:default/guest"})
	if err != nil {
		log.Fatal(err)
	}
	last, err := l.Append(ctx, []event.Envelope{e})
	if err != nil {
		log.Fatal(err)
	}
	evs, err := l.Read(ctx, 0, 100)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(last, len(evs), evs[0].Type, evs[0].Subject)
	// Output: 1 1 backlot.location.registered.v1 location:default/generated-1
}
