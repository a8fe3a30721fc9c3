package feed

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"backlot.dev/backlot/domain/event"
)

// Reader serves the event feed (the HTTP poll and stream) from an event log of
// any number of partitions: the embedded log's one or Kafka's many. It holds
// no state between reads; the cursor is the client's.
type Reader struct {
	// Log is the event log the feed reads.
	Log event.PartitionedLog
}

// New returns the feed of log.
func New(log event.PartitionedLog) Reader { return Reader{Log: log} }

// scanBatch is how many events one read of a partition takes.
const scanBatch = 500

// Heads returns the cursor of the log's end.
func (f Reader) Heads(ctx context.Context) (event.Positions, error) { return f.Log.Heads(ctx) }

// partitionsFor lists the partitions that can hold the filter's events: the
// subject's only, when one is given and the log has several.
func (f Reader) partitionsFor(ctx context.Context, filter Filter) ([]int32, error) {
	parts, err := f.Log.Partitions(ctx)
	if err != nil || filter.Subject == "" || len(parts) < 2 {
		return parts, err
	}
	return []int32{partitionOf(filter.Subject, parts)}, nil
}

// partitionOf returns the partition of parts that Kafka's default balancer
// (murmur2 of the key, as kafkalog writes) puts the subject's events in.
func partitionOf(subject string, parts []int32) int32 {
	ints := make([]int, len(parts))
	for i, p := range parts {
		ints[i] = int(p)
	}
	return int32(kafka.Murmur2Balancer{}.Balance(kafka.Message{Key: []byte(subject)}, ints...))
}

// Read scans each partition after the cursor for matching events, waits for
// new ones when there are none, and orders what it found by time.
func (f Reader) Read(ctx context.Context, after event.Positions, filter Filter, limit int, wait time.Duration) ([]event.Envelope, event.Positions, error) {
	parts, err := f.partitionsFor(ctx, filter)
	if err != nil {
		return nil, after, err
	}
	next := after.Clone()
	deadline := time.Now().Add(wait)
	for {
		found, err := f.scan(ctx, parts, next, filter, limit)
		if err != nil {
			return nil, after, err
		}
		if len(found) > 0 || time.Now().After(deadline) {
			return found, next, nil
		}
		// Nothing yet: wait until any partition grows, or the wait ends.
		wctx, cancel := context.WithDeadline(ctx, deadline)
		grown := make(chan struct{}, len(parts))
		var wg sync.WaitGroup
		for _, p := range parts {
			wg.Go(func() {
				if _, err := f.Log.WaitPartition(wctx, p, next[p]); err == nil {
					grown <- struct{}{}
				}
			})
		}
		select {
		case <-grown:
		case <-wctx.Done():
		}
		cancel()
		wg.Wait()
		if ctx.Err() != nil {
			return nil, after, ctx.Err()
		}
		if errors.Is(wctx.Err(), context.DeadlineExceeded) && time.Now().After(deadline) {
			found, err := f.scan(ctx, parts, next, filter, limit)
			return found, next, err
		}
	}
}

// scan reads each partition after cursor until it has limit matches or the
// partition's end, advances cursor past what it read, and returns at most limit
// matches merged by time, each partition's in log order. A partition whose
// matches were cut keeps its cursor before the first one left out, so nothing
// is skipped.
func (f Reader) scan(ctx context.Context, parts []int32, cursor event.Positions, filter Filter, limit int) ([]event.Envelope, error) {
	per := make([][]event.Envelope, len(parts))
	for i, p := range parts {
		for len(per[i]) < limit {
			evs, err := f.Log.ReadPartition(ctx, p, cursor[p], scanBatch)
			if err != nil {
				return nil, err
			}
			if len(evs) == 0 {
				break
			}
			for j := range evs {
				cursor[p] = evs[j].Position
				if filter.Matches(&evs[j]) {
					per[i] = append(per[i], evs[j])
					if len(per[i]) == limit {
						break
					}
				}
			}
		}
	}
	var out []event.Envelope
	for len(out) < limit {
		best := -1
		for i := range per {
			if len(per[i]) > 0 && (best < 0 || per[i][0].Time.Before(per[best][0].Time)) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		out = append(out, per[best][0])
		per[best] = per[best][1:]
	}
	for _, rest := range per {
		if len(rest) > 0 {
			cursor[rest[0].Partition] = rest[0].Position - 1
		}
	}
	return out, nil
}
