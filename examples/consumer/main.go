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
