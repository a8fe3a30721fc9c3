// Package kafkalog is the production event-log adapter: Backlot's event history in a
// Kafka topic, through github.com/segmentio/kafka-go. A Log implements
// event.PartitionedLog. (Its tests also see a one-partition topic as the totally
// ordered event.Log, to run the log's contract suite, internal/eventlog/logtest.)
//
// # Topic layout
//
// The history lives in one topic, Options.TopicPrefix + EventsTopic
// ("backlot.catalog.events.v1" by default). Open creates it when it is missing, with
// Options.Partitions partitions (12), Options.ReplicationFactor replicas (3, lowered to
// the number of brokers) and unlimited retention (retention.ms=-1,
// retention.bytes=-1, cleanup.policy=delete): the log is the source of truth and read
// models are rebuilt by replaying it from the start. An existing topic keeps its
// partition count. EnsureTopic creates other topics the same way, such as the
// compacted state topic.
//
// Every event is one record, keyed by its Subject (the entity ref) and placed by
// kafka-go's Murmur2Balancer, the placement of Kafka's Java client, so one entity's
// events stay in one partition, in order, whoever produced them. The partition count
// must therefore never change once events are written. A record's timestamp is the
// event's time.
//
// # Records: CloudEvents binary mode
//
// Records follow the CloudEvents Kafka protocol binding in binary mode: the value is
// the event's JSON data as is, and the context attributes are headers, ce_id,
// ce_source, ce_specversion, ce_type, ce_subject, ce_time (RFC 3339 in UTC with
// nanoseconds), ce_dataschema when set, Backlot's extensions ce_actor, ce_commit and
// ce_correlationid when set, and content-type (application/json). Any consumer that
// speaks CloudEvents reads the topic without Backlot's code; reading a record that is
// not such an event is an error naming its topic, partition and offset.
//
// # Positions
//
// An event's position is its offset in its partition plus one, so that positions
// start at 1 and 0 means "nothing read yet", as on the embedded log; a partition's
// head is its high watermark. Read models record one position per partition
// (event.Positions) in the same transaction as their data.
//
// # Appends and atomicity
//
// Append sends each partition's share of a batch as one produce request with one
// record batch (acks=all), the partitions in parallel, and reads the offsets from the
// answers. Kafka appends a record batch atomically with consecutive offsets, so a
// share is all or nothing and contiguous. A batch spanning partitions is not atomic
// across them: a broker failing mid-write can leave some partitions written and
// others not. Backlot relies on its writes being idempotent instead: events carry the
// hash of the body they describe, folds skip what they already applied, and a refresh
// rewrites what is missing. There is no idempotent producer and no transactions, so a
// write retried after a lost answer may also be stored twice; folds ignore the
// repeat.
//
// # Reads and waits
//
// ReadPartition is one stateless fetch (kafka.Client.Fetch) from offset = the
// position read so far, sized to the limit and the size of the events read before;
// WaitPartition long-polls a fetch at that offset until the high watermark passes it.
// Neither keeps state on the brokers: no consumer offsets are committed. A
// per-partition kafka.Conn read measured about as fast against kfake (within the
// noise, at most a third faster, decoding included), not enough to pay for a
// connection per partition to keep, re-dial on leader changes and lock; the fetch
// goes through kafka-go's Transport, which routes it to the partition's leader and
// is safe for concurrent use.
//
// # Consumer groups
//
// RunGroup joins a Kafka consumer group over the topic, so that several projector
// processes share its partitions and a dead one's partitions move to the others
// within the session timeout. The group only assigns partitions; the members read
// them with ReadPartition from the positions their read model stored, not from
// committed offsets.
//
// # Not supported
//
// Connections are plain TCP: TLS and SASL are not wired yet.
package kafkalog
