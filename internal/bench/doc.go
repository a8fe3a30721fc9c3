// Package bench measures whole Backlot servers from outside, as `backlot bench`
// runs them: Catalog ingests a synthetic catalog (package gen) into a `backlot
// dev` process, or a `backlot serve` process on Kafka and PostgreSQL, and
// measures ingestion, query latencies, change visibility, policy evaluation,
// peak memory and replay; Migrate measures a fleet migration's orchestration
// overhead; Scaffold measures start-up and the example template's tasks; Soak
// runs readers, writers and change-feed followers against `backlot dev` or a
// `backlot serve` of several api processes for a while, and checks that no
// request failed and no follower lost, doubled or reordered an event.
//
// Every bench starts the backlot binary named in its options as a child
// process, so the numbers are those of the shipped program. The production
// bench needs a Kafka cluster: without brokers it starts the in-process
// Kafka-protocol broker of package kafkabroker as a separate helper program,
// so that neither this package nor the binary links a test broker.
package bench
