package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"

	"backlot.dev/backlot/domain/event"
)

// recordOverhead is the size of a record's framing (length, attributes, timestamp and
// offset deltas, key and value lengths, header count), rounded up.
const recordOverhead = 32

// Retry pacing of a produce request that the cluster refused without writing it.
const (
	retryBackoffMin = 50 * time.Millisecond
	retryBackoffMax = time.Second
)

// partitioner places events by key the way Kafka's Java client does (murmur2 of the
// key modulo the partition count), so every producer of the topic agrees.
var partitioner = kafka.Murmur2Balancer{}

// Append validates every event, writing nothing if one is invalid or if one ID is
// repeated in the batch (event.ErrDuplicateID), then writes them to
// the topic: each event to the partition its Subject hashes to (kafka-go's
// Murmur2Balancer, the Java client's placement), keyed by its Subject, with the
// CloudEvents attributes in ce_* headers and the data as the value. It sets Partition
// and Position (offset + 1) on every envelope and returns the Position of the last
// one; an empty batch writes nothing and returns 0.
//
// Each partition's share of the batch is sent as one produce request holding one
// record batch, which Kafka appends atomically and with consecutive offsets; the
// partitions are written in parallel, with acks=all. A share larger than
// Options.MaxBatchBytes is sent as several record batches in a row, and no other
// Append of this Log lands between them.
//
// Append does not use kafka-go's Writer, although its Completion callback does report
// the right partitions and offsets (checked against kfake): the Writer holds every
// write for its BatchTimeout (on kfake, a 500-event write took 7.5 ms with 5 ms,
// against 0.2 ms for a produce request), splits a call into batches by count, merges
// concurrent calls into them, and retries on its own, so that a cancelled write may
// still land later. A produce request per partition answers in one round trip, keeps
// each share in one record batch and leaves no doubt about which offsets were
// assigned. The record timestamp is the event's Time.
//
// Atomicity: an Append that touches one partition with a share that fits in one
// batch is all or nothing. A batch spanning partitions is not: if a broker fails
// mid-write, some partitions may hold their events and others not. Backlot copes
// because its writes are idempotent: events carry the hash of the body they describe,
// folds skip what they already applied, and a refresh rewrites whatever is missing.
//
// IDs: a topic keeps no index of event IDs, so an event whose ID is already in the
// log (a retried append) is stored again, as event.ErrDuplicateID allows; only an ID
// repeated within the batch is refused.
//
// Requests the cluster refused without writing (no leader, leader moved, not enough
// in-sync replicas) are retried until Options.WriteTimeout. Any other failure, or ctx
// ending, returns an error naming the topic, the brokers, the partition and the
// cause, and sets no Position; events of a failed Append may nonetheless have been
// written (a request lost on the network may have reached the broker). After Close it
// returns event.ErrClosed.
func (l *Log) Append(ctx context.Context, events []event.Envelope) (int64, error) {
	if l.closed.Load() {
		return 0, event.ErrClosed
	}
	seen := make(map[string]int, len(events))
	for i := range events {
		if err := events[i].Validate(); err != nil {
			return 0, fmt.Errorf("kafkalog: append to topic %s: event %d of %d: %w", l.topic, i+1, len(events), err)
		}
		if j, dup := seen[events[i].ID]; dup {
			return 0, fmt.Errorf("kafkalog: append to topic %s: %w: event id %q is both event %d and event %d of the batch",
				l.topic, event.ErrDuplicateID, events[i].ID, j+1, i+1)
		}
		seen[events[i].ID] = i
	}
	if len(events) == 0 {
		return 0, nil
	}
	if err := ctx.Err(); err != nil {
		return 0, l.fail(ctx, "append", err)
	}
	rctx, stop := l.request(ctx)
	defer stop()
	rctx, cancel := context.WithTimeout(rctx, l.opts.WriteTimeout)
	defer cancel()

	// Place the events, keeping each partition's share in the batch's order.
	placed := make([]int32, len(events))
	shares := make(map[int32][]int, min(len(events), l.partitions))
	var order []int32
	for i := range events {
		p := int32(partitioner.Balance(kafka.Message{Key: []byte(events[i].Subject)}, l.ids...))
		placed[i] = p
		if _, ok := shares[p]; !ok {
			order = append(order, p)
		}
		shares[p] = append(shares[p], i)
	}

	offsets := make([]int64, len(events))
	errs := make([]error, len(order))
	if len(order) == 1 {
		errs[0] = l.appendShare(rctx, order[0], events, shares[order[0]], offsets)
	} else {
		var wg sync.WaitGroup
		for k, p := range order {
			wg.Go(func() { errs[k] = l.appendShare(rctx, p, events, shares[p], offsets) })
		}
		wg.Wait()
	}
	if err := joinErrors(errs); err != nil {
		return 0, l.fail(ctx, "append", err)
	}
	for i := range events {
		events[i].Partition = placed[i]
		events[i].Position = offsets[i] + 1
	}
	return events[len(events)-1].Position, nil
}

// appendShare writes the events at indexes idx, all placed in partition p, and stores
// their offsets in offsets.
func (l *Log) appendShare(ctx context.Context, p int32, events []event.Envelope, idx []int, offsets []int64) error {
	headers := make([][]kafka.Header, len(idx))
	var chunks [][]int // runs of idx, each one record batch
	start, size := 0, 0
	for k, i := range idx {
		headers[k] = recordHeaders(&events[i])
		n := recordOverhead + len(events[i].Subject) + len(events[i].Data) + headersSize(headers[k])
		if k > start && size+n > l.opts.MaxBatchBytes {
			chunks = append(chunks, idx[start:k])
			start, size = k, 0
		}
		size += n
	}
	chunks = append(chunks, idx[start:])

	if len(chunks) > 1 {
		l.appending[p].Lock()
		defer l.appending[p].Unlock()
	} else {
		l.appending[p].RLock()
		defer l.appending[p].RUnlock()
	}
	k := 0
	for _, chunk := range chunks {
		base, err := l.produce(ctx, p, events, chunk, headers[k:k+len(chunk)])
		if err != nil {
			return fmt.Errorf("partition %d: %w", p, err)
		}
		for j, i := range chunk {
			offsets[i] = base + int64(j)
		}
		k += len(chunk)
	}
	return nil
}

// produce writes the events at indexes idx as one record batch to partition p and
// returns the offset of the first. The data is copied first: a request abandoned
// because ctx ended may still be encoded after produce returned, when the caller
// owns the envelopes again.
func (l *Log) produce(ctx context.Context, p int32, events []event.Envelope, idx []int, headers [][]kafka.Header) (int64, error) {
	total := 0
	for _, i := range idx {
		total += len(events[i].Data)
	}
	buf := make([]byte, 0, total)
	data := make([][]byte, len(idx))
	for k, i := range idx {
		buf = append(buf, events[i].Data...)
		data[k] = buf[len(buf)-len(events[i].Data):]
	}

	backoff := retryBackoffMin
	for {
		records := make([]kafka.Record, len(idx))
		for k, i := range idx {
			records[k] = kafka.Record{
				Time:    events[i].Time,
				Key:     kafka.NewBytes([]byte(events[i].Subject)),
				Value:   kafka.NewBytes(data[k]),
				Headers: headers[k],
			}
		}
		res, err := l.writer.Produce(ctx, &kafka.ProduceRequest{
			Topic:        l.topic,
			Partition:    int(p),
			RequiredAcks: kafka.RequireAll,
			Records:      kafka.NewRecordReader(records...),
		})
		if err == nil {
			err = res.Error
		}
		if err == nil && len(res.RecordErrors) > 0 {
			for _, rerr := range res.RecordErrors {
				err = rerr
				break
			}
		}
		if err == nil {
			return res.BaseOffset, nil
		}
		if !unwritten(err) {
			return 0, err
		}
		if sleepErr := sleep(ctx, backoff); sleepErr != nil {
			return 0, fmt.Errorf("%w (retrying after: %w)", sleepErr, err)
		}
		backoff = min(2*backoff, retryBackoffMax)
	}
}

// unwritten reports whether err says the cluster refused a produce request before
// writing any of it, so that sending it again cannot duplicate events.
func unwritten(err error) bool {
	for _, code := range []kafka.Error{
		kafka.NotLeaderForPartition,
		kafka.LeaderNotAvailable,
		kafka.UnknownTopicOrPartition,
		kafka.NotEnoughReplicas,
		kafka.BrokerNotAvailable,
	} {
		if errors.Is(err, code) {
			return true
		}
	}
	return errors.Is(err, protocol.ErrNoLeader)
}

// joinErrors joins the non-nil errors on one line, separated by semicolons, keeping
// each for errors.Is and errors.As; it returns nil when there are none.
func joinErrors(errs []error) error {
	var format []string
	var args []any
	for _, err := range errs {
		if err != nil {
			format = append(format, "%w")
			args = append(args, err)
		}
	}
	if len(args) == 0 {
		return nil
	}
	return fmt.Errorf(strings.Join(format, "; "), args...)
}
