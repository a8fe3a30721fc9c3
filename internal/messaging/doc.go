// Package messaging is Backlot's Watermill plumbing: the conversion between event
// envelopes and Watermill messages, a Publisher and Subscriber over Kafka through
// kafka-go, a Publisher and Subscriber over the embedded event log, and a Router
// with the middleware every handler runs under (correlation id, Prometheus
// metrics, poison queue, retry with backoff, panic recovery).
//
// Handlers that react to single events (the compacted state topic, later policy
// evaluation, webhooks and workflow triggers) run on the Router; projections
// that must be fast read the log in batches instead (see projections/catalogstore).
//
// Messages carry the CloudEvents attributes in their metadata under the same
// names as Kafka's binary-mode headers (ce_id, ce_type, …), so a message
// published to Kafka is a CloudEvent a consumer outside Backlot can read.
//
// Both pub/subs pass Watermill's universal pub/sub test suite
// (github.com/ThreeDotsLabs/watermill/pubsub/tests, run by suite_test.go),
// which declares what each provides: consumer groups, at-least-once delivery,
// persistence, and order (log order on the embedded log, partition order on
// Kafka). The embedded log stores CloudEvents only, so the suite runs the log
// pub/sub with a LogMarshaler of its own that keeps any message, on any topic,
// in an event.
package messaging
