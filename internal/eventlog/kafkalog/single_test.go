package kafkalog

import (
	"context"
	"fmt"

	"backlot.dev/backlot/domain/event"
)

// Single returns the Log as a totally ordered event.Log (for the contract suite,
// which checks the event.Log port: the product reads the topic by partition), which it is when the topic has
// exactly one partition: Read, Head and Wait are ReadPartition, Heads and
// WaitPartition of partition 0, and Append is the Log's Append. Closing the returned
// log closes the Log. It returns an error when the topic has more than one partition.
func (l *Log) Single() (event.Log, error) {
	if l.partitions != 1 {
		return nil, fmt.Errorf("kafkalog: topic %s has %d partitions; a totally ordered log needs exactly one",
			l.topic, l.partitions)
	}
	return singleLog{l}, nil
}

// singleLog is a one-partition Log seen as an event.Log.
type singleLog struct{ l *Log }

var _ event.Log = singleLog{}

// Append appends the events; with nothing to append it returns the head.
func (s singleLog) Append(ctx context.Context, events []event.Envelope) (int64, error) {
	if len(events) == 0 {
		return s.Head(ctx)
	}
	return s.l.Append(ctx, events)
}

// Read reads partition 0.
func (s singleLog) Read(ctx context.Context, after int64, limit int) ([]event.Envelope, error) {
	return s.l.ReadPartition(ctx, 0, after, limit)
}

// Head returns the head of partition 0.
func (s singleLog) Head(ctx context.Context) (int64, error) {
	heads, err := s.l.Heads(ctx)
	if err != nil {
		return 0, err
	}
	return heads[0], nil
}

// Wait waits on partition 0.
func (s singleLog) Wait(ctx context.Context, after int64) (int64, error) {
	return s.l.WaitPartition(ctx, 0, after)
}

// Close closes the Log.
func (s singleLog) Close() error { return s.l.Close() }
