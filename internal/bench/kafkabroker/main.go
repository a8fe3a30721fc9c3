package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	n := flag.Int("brokers", 1, "number of brokers in the cluster")
	flag.Parse()
	if err := run(*n, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "kafkabroker:", err)
		os.Exit(1)
	}
}

// run serves a cluster of n brokers until in ends or a signal arrives.
func run(n int, in io.Reader, out io.Writer) error {
	if n < 1 {
		return fmt.Errorf("--brokers %d: want 1 or more", n)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(n), kfake.AllowAutoTopicCreation())
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := fmt.Fprintf(out, "brokers %s\n", strings.Join(c.ListenAddrs(), ",")); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		io.Copy(io.Discard, in)
		close(done)
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case <-done:
	case <-sig:
	}
	return nil
}
