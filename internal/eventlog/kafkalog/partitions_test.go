package kafkalog_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/kafkalog"
	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
	"backlot.dev/backlot/internal/eventlog/logtest"
)

// manyPartitions is the partition count of the multi-partition tests.
const manyPartitions = 6

// spread returns n valid envelopes about subjects entities in turn, so that a batch
// touches most partitions of a topic.
func spread(tag string, n, subjects int) []event.Envelope {
	evs := logtest.MakeEnvelopes(tag, n, 64)
	for i := range evs {
		evs[i].Subject = fmt.Sprintf("component:default/svc-%d", i%subjects)
	}
	return evs
}

func TestPartitionedAppendAndRead(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l := openLog(t, kafkatest.Brokers(t), manyPartitions)

	parts, err := l.Partitions(ctx)
	if err != nil || !slices.Equal(parts, []int32{0, 1, 2, 3, 4, 5}) {
		t.Fatalf("Partitions = %v, %v; want 0 to 5", parts, err)
	}

	var all []event.Envelope
	for i, size := range []int{1, 40, 7, 100} {
		batch := spread(fmt.Sprint("b", i), size, 30)
		if i == 2 {
			// Optional attributes absent, a time in another zone, odd data.
			batch[0].DataSchema, batch[0].Actor, batch[0].Commit, batch[0].CorrelationID = "", "", "", ""
			batch[1].Time = time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.FixedZone("X", -7*3600))
			batch[2].Data = []byte("{ \"s\" : \"caf\u00e9 \\u0000 \U0001F680\",\n\t\"n\": 1.50e3 }")
		}
		last, err := l.Append(ctx, batch)
		if err != nil {
			t.Fatalf("Append batch %d: %v", i, err)
		}
		if want := batch[len(batch)-1].Position; last != want {
			t.Fatalf("Append batch %d returned %d, want the last event's position %d", i, last, want)
		}
		all = append(all, batch...)
	}

	// Placement: by subject, the way Kafka's Java client places keys (murmur2).
	javaPlacement := kgo.StickyKeyPartitioner(nil).ForTopic(l.Topic())
	partOf := map[string]int32{}
	for i, e := range all {
		if e.Partition < 0 || e.Partition >= manyPartitions {
			t.Fatalf("event %d: Partition %d out of range", i, e.Partition)
		}
		if p, ok := partOf[e.Subject]; ok && p != e.Partition {
			t.Fatalf("subject %s in partitions %d and %d", e.Subject, p, e.Partition)
		}
		partOf[e.Subject] = e.Partition
		want := int32(javaPlacement.Partition(&kgo.Record{Key: []byte(e.Subject)}, manyPartitions))
		if e.Partition != want {
			t.Fatalf("subject %s in partition %d, the Java client places it in %d", e.Subject, e.Partition, want)
		}
	}

	// Positions: consecutive from 1 in every partition, in append order.
	byPart := map[int32][]event.Envelope{}
	for _, e := range all {
		byPart[e.Partition] = append(byPart[e.Partition], e)
	}
	if len(byPart) < 3 {
		t.Fatalf("30 subjects landed in %d partitions only", len(byPart))
	}
	for p, evs := range byPart {
		for i, e := range evs {
			if e.Position != int64(i+1) {
				t.Fatalf("partition %d event %d: Position %d, want %d", p, i, e.Position, i+1)
			}
		}
	}

	// Heads: the positions Append returned, zero where nothing was written.
	heads, err := l.Heads(ctx)
	if err != nil {
		t.Fatalf("Heads: %v", err)
	}
	want := event.PositionsOf(all)
	for _, p := range parts {
		if heads[p] != want[p] {
			t.Errorf("Heads[%d] = %d, want %d", p, heads[p], want[p])
		}
	}

	// Reads: every partition gives back its events, byte for byte, in order; one
	// subject's events keep their order.
	for _, p := range parts {
		got, err := l.ReadPartition(ctx, p, 0, 1000)
		if err != nil {
			t.Fatalf("ReadPartition(%d): %v", p, err)
		}
		if len(got) != len(byPart[p]) {
			t.Fatalf("ReadPartition(%d) = %d events, want %d", p, len(got), len(byPart[p]))
		}
		for i := range got {
			if d := logtest.Diff(byPart[p][i], got[i]); d != "" {
				t.Fatalf("partition %d event %d: %s", p, i, d)
			}
			if got[i].Partition != p {
				t.Fatalf("partition %d event %d: Partition = %d", p, i, got[i].Partition)
			}
		}
		// Paging from the middle.
		if n := len(got); n > 2 {
			page, err := l.ReadPartition(ctx, p, got[0].Position, 1)
			if err != nil || len(page) != 1 || page[0].ID != got[1].ID {
				t.Fatalf("ReadPartition(%d, %d, 1) = %d events, %v; want event %s", p, got[0].Position, len(page), err, got[1].ID)
			}
		}
	}
}

func TestReadAfterHeadReturnsAtOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l := openLog(t, kafkatest.Brokers(t), manyPartitions)
	evs := spread("h", 20, 10)
	if _, err := l.Append(ctx, evs); err != nil {
		t.Fatal(err)
	}
	heads, err := l.Heads(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []int32{0, 1, 2, 3, 4, 5} {
		for _, after := range []int64{heads[p], heads[p] + 100} {
			start := time.Now()
			got, err := l.ReadPartition(ctx, p, after, 10)
			if err != nil || len(got) != 0 {
				t.Fatalf("ReadPartition(%d, %d) = %d events, %v; want none", p, after, len(got), err)
			}
			// Not a performance check: a read that waited for events would take a
			// long-poll period (seconds).
			if d := time.Since(start); d > time.Second {
				t.Errorf("ReadPartition(%d, %d) after the head took %s", p, after, d)
			}
		}
	}
}

func TestWaitPartition(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l := openLog(t, kafkatest.Brokers(t), manyPartitions, func(o *kafkalog.Options) {
		o.LongPollWait = 200 * time.Millisecond // several polls per wait
	})
	first := spread("w", 1, 1)
	if _, err := l.Append(ctx, first); err != nil {
		t.Fatal(err)
	}
	p, head := first[0].Partition, first[0].Position

	t.Run("returns at once when ahead", func(t *testing.T) {
		got, err := l.WaitPartition(ctx, p, head-1)
		if err != nil || got != head {
			t.Fatalf("WaitPartition(%d, %d) = %d, %v; want %d", p, head-1, got, err, head)
		}
	})
	t.Run("wakes on append", func(t *testing.T) {
		for _, after := range []int64{head, head + 1} { // at the head, and past it
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			woke := make(chan error, 1)
			var got int64
			go func() {
				var err error
				got, err = l.WaitPartition(wctx, p, after)
				woke <- err
			}()
			time.Sleep(50 * time.Millisecond) // let it block; the test passes without it
			more := spread("more", 2, 1)      // the same subject: the same partition
			if _, err := l.Append(ctx, more); err != nil {
				t.Fatal(err)
			}
			if err := <-woke; err != nil {
				t.Fatalf("WaitPartition(%d, %d): %v", p, after, err)
			}
			cancel()
			if got <= after || got > more[1].Position {
				t.Fatalf("WaitPartition(%d, %d) = %d, want a head in (%d, %d]", p, after, got, after, more[1].Position)
			}
			head = more[1].Position
		}
	})
	t.Run("ends with its context", func(t *testing.T) {
		wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if _, err := l.WaitPartition(wctx, p, head); err != context.DeadlineExceeded {
			t.Fatalf("WaitPartition past its deadline = %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("unknown partition", func(t *testing.T) {
		if _, err := l.WaitPartition(ctx, manyPartitions, 0); err == nil {
			t.Fatal("WaitPartition of partition 6 of 6 succeeded")
		}
		if _, err := l.ReadPartition(ctx, -1, 0, 1); err == nil {
			t.Fatal("ReadPartition of partition -1 succeeded")
		}
	})
}

func TestSingleNeedsOnePartition(t *testing.T) {
	t.Parallel()
	l := openLog(t, kafkatest.Brokers(t), 2)
	if _, err := l.Single(); err == nil {
		t.Fatal("Single on a two-partition topic succeeded")
	}
}
