// Command consumer is an example of a service outside Backlot that keeps a
// local mirror of the catalog from Backlot's change stream.
//
// It reads GET /api/events/stream (Server-Sent Events) with the standard
// library only, folds the entity and location events into a map from entity
// ref to entity body, prints a line per applied change, and saves the map
// with the cursor of the last applied event to a state file. Started again,
// it sends that cursor as Last-Event-ID and continues exactly after it.
//
// Usage:
//
//	go run ./examples/consumer --url http://127.0.0.1:7007 --state mirror.json
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:7007", "the Backlot server")
	statePath := flag.String("state", "mirror.json", "the state file: the mirrored catalog and the stream cursor")
	flag.Parse()

	logger := log.New(os.Stderr, "consumer: ", log.LstdFlags)
	m, err := LoadMirror(*statePath)
	if err != nil {
		logger.Fatal(err)
	}
	if c := m.Cursor(); c != "" {
		logger.Printf("resuming after %s with %d entities", c, len(m.Entities()))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f := &Follower{URL: *url, Mirror: m, StatePath: *statePath, Out: os.Stdout, Logf: logger.Printf}
	if err := f.Run(ctx); err != nil {
		stop()
		logger.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "consumer: stopped; %d entities mirrored in %s\n", len(m.Entities()), *statePath)
}
