package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"

	"backlot.dev/backlot/domain/event"
)

// Sizing of the fetches of ReadPartition.
const (
	// initialRecordBytes is the guess of an event's encoded size before any was read.
	initialRecordBytes = 1 << 10
	// minFetchBytes is the least a fetch asks for.
	minFetchBytes = 64 << 10
)

// readMaxWait is how long the broker may hold a fetch of ReadPartition. It asks for
// zero bytes at least, so the broker answers at once anyway.
const readMaxWait = time.Millisecond

// ReadPartition returns up to limit events of partition p with positions greater than
// after, in order, decoded from their ce_* headers; limit <= 0 means
// Options.DefaultReadLimit. It sends one fetch from offset after and returns what that
// fetch brings, so it may return fewer than limit events while more exist; it never
// waits for events to arrive, and reading after the head returns none at once.
//
// A record that is not a Backlot event in CloudEvents binary mode is an error naming
// the topic, partition and offset. After Close it returns event.ErrClosed.
func (l *Log) ReadPartition(ctx context.Context, p int32, after int64, limit int) ([]event.Envelope, error) {
	if l.closed.Load() {
		return nil, event.ErrClosed
	}
	if err := l.checkPartition(p); err != nil {
		return nil, err
	}
	if after < 0 {
		return nil, fmt.Errorf("kafkalog: read topic %s partition %d: negative position %d", l.topic, p, after)
	}
	if limit <= 0 {
		limit = l.opts.DefaultReadLimit
	}
	rctx, stop := l.request(ctx)
	defer stop()
	maxBytes := l.fetchBytes(limit)
	res, err := l.reader.Fetch(rctx, &kafka.FetchRequest{
		Topic:     l.topic,
		Partition: int(p),
		Offset:    after,
		MinBytes:  0,
		MaxBytes:  maxBytes,
		MaxWait:   readMaxWait,
	})
	if err != nil {
		return nil, l.fail(ctx, fmt.Sprintf("read partition %d after %d", p, after), err)
	}
	if res.Error != nil {
		if errors.Is(res.Error, kafka.OffsetOutOfRange) {
			// Past the head (or, were retention ever set, before the first event kept).
			head, err := l.head(rctx, p)
			if err != nil {
				return nil, l.fail(ctx, fmt.Sprintf("read partition %d after %d", p, after), err)
			}
			if after >= head {
				return nil, nil
			}
		}
		return nil, l.fail(ctx, fmt.Sprintf("read partition %d after %d", p, after), res.Error)
	}

	var evs []event.Envelope
	size := 0
	for len(evs) < limit {
		r, err := res.Records.ReadRecord()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, l.fail(ctx, fmt.Sprintf("read partition %d after %d", p, after), err)
		}
		if r.Offset < after {
			release(r)
			continue // the batch holding offset after began before it
		}
		var data []byte
		if r.Value != nil {
			data, err = kafka.ReadAll(r.Value)
		}
		release(r)
		if err != nil {
			return nil, l.fail(ctx, fmt.Sprintf("read partition %d offset %d", p, r.Offset), err)
		}
		e, err := decodeRecord(l.topic, p, r, data)
		if err != nil {
			return nil, err
		}
		if evs == nil {
			// As many as the fetch likely holds.
			evs = make([]event.Envelope, 0, min(limit, int(maxBytes/max(l.recordBytes.Load(), 1))+1))
		}
		evs = append(evs, e)
		size += recordOverhead + len(e.Subject) + len(data) + headersSize(r.Headers)
	}
	if len(evs) > 0 {
		avg := int64(size / len(evs))
		l.recordBytes.Store((3*l.recordBytes.Load() + avg) / 4)
	}
	return evs, nil
}

// release gives back the fetch buffer's pages that hold the key and value of
// r, once read (or skipped): kafka-go then reuses them for the next fetches
// instead of leaving a 64 KB page to the garbage collector per few dozen
// records.
func release(r *kafka.Record) {
	if r.Key != nil {
		r.Key.Close()
	}
	if r.Value != nil {
		r.Value.Close()
	}
}

// fetchBytes is how many bytes a fetch for limit events asks for: enough for limit
// events of the size seen so far, and a little more.
func (l *Log) fetchBytes(limit int) int64 {
	want := (int64(limit) + 1) * l.recordBytes.Load() * 5 / 4
	return min(max(want, minFetchBytes), int64(l.opts.FetchMaxBytes))
}

// Heads returns the position of the last event of every partition (the partitions'
// high watermarks), zero for an empty partition. After Close it returns
// event.ErrClosed.
func (l *Log) Heads(ctx context.Context) (event.Positions, error) {
	if l.closed.Load() {
		return nil, event.ErrClosed
	}
	rctx, stop := l.request(ctx)
	defer stop()
	heads, err := l.heads(rctx, l.ids...)
	if err != nil {
		return nil, l.fail(ctx, "heads", err)
	}
	return heads, nil
}

// heads lists the high watermarks of the given partitions.
func (l *Log) heads(ctx context.Context, partitions ...int) (event.Positions, error) {
	reqs := make([]kafka.OffsetRequest, len(partitions))
	for i, p := range partitions {
		reqs[i] = kafka.LastOffsetOf(p)
	}
	res, err := l.reader.ListOffsets(ctx, &kafka.ListOffsetsRequest{
		Topics: map[string][]kafka.OffsetRequest{l.topic: reqs},
	})
	if err != nil {
		return nil, err
	}
	heads := make(event.Positions, len(partitions))
	for _, po := range res.Topics[l.topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("partition %d: %w", po.Partition, po.Error)
		}
		heads[int32(po.Partition)] = po.LastOffset
	}
	for _, p := range partitions {
		if _, ok := heads[int32(p)]; !ok {
			return nil, fmt.Errorf("partition %d: no offset in the answer", p)
		}
	}
	return heads, nil
}

// head returns the high watermark of partition p.
func (l *Log) head(ctx context.Context, p int32) (int64, error) {
	heads, err := l.heads(ctx, int(p))
	if err != nil {
		return 0, err
	}
	return heads[p], nil
}

// WaitPartition blocks until the head of partition p is greater than after, and
// returns the head. It long-polls the partition leader: each fetch waits at the broker
// for up to Options.LongPollWait, and an append wakes it at once, made by this Log or
// by any other producer. It returns ctx.Err() when ctx ends first and
// event.ErrClosed when the Log is closed, including while WaitPartition is blocked.
func (l *Log) WaitPartition(ctx context.Context, p int32, after int64) (int64, error) {
	if l.closed.Load() {
		return 0, event.ErrClosed
	}
	if err := l.checkPartition(p); err != nil {
		return 0, err
	}
	rctx, stop := l.request(ctx)
	defer stop()
	// from is where the long poll reads: after, or the head when after is past it (a
	// fetch there would fail at once rather than wait).
	from := max(after, 0)
	backoff := retryBackoffMin
	for {
		res, err := l.reader.Fetch(rctx, &kafka.FetchRequest{
			Topic:     l.topic,
			Partition: int(p),
			Offset:    from,
			MinBytes:  1,
			MaxBytes:  1,
			MaxWait:   l.opts.LongPollWait,
		})
		if err == nil {
			err = res.Error
		}
		switch {
		case l.closed.Load():
			return 0, event.ErrClosed
		case ctx.Err() != nil:
			return 0, ctx.Err()
		case err == nil:
			if res.HighWatermark > after {
				return res.HighWatermark, nil
			}
			backoff = retryBackoffMin
		case errors.Is(err, kafka.OffsetOutOfRange):
			head, err := l.head(rctx, p)
			if err != nil {
				return 0, l.fail(ctx, fmt.Sprintf("wait partition %d after %d", p, after), err)
			}
			if head > after {
				return head, nil
			}
			from = head
		case unwritten(err):
			// The leader moved or is being elected: ask again once the metadata has
			// caught up.
			if err := sleep(rctx, backoff); err != nil {
				continue // the cases above report it
			}
			backoff = min(2*backoff, retryBackoffMax)
		default:
			return 0, l.fail(ctx, fmt.Sprintf("wait partition %d after %d", p, after), err)
		}
	}
}
