// Command kafkabroker serves the Kafka protocol in-process (franz-go's kfake)
// for `backlot bench catalog --production` when no Kafka cluster is given. It
// is a program of its own so that the backlot binary does not link a test
// broker: the bench starts it as a child process.
//
// It prints one line, "brokers HOST:PORT[,HOST:PORT...]", on standard output
// once the brokers listen, and serves until standard input ends (the bench
// closes it, or the bench died) or it receives SIGINT or SIGTERM. Topics are
// created on first use. Everything is kept in memory.
//
// Usage:
//
//	kafkabroker [--brokers N]
package main
