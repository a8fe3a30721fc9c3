package kafkalog_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/kafkalog"
	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
	"backlot.dev/backlot/internal/eventlog/logtest"
)

func TestInvalidEnvelopeWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l := openLog(t, kafkatest.Brokers(t), manyPartitions)
	batch := spread("bad", 12, 12)
	batch[7].Type = ""
	if _, err := l.Append(ctx, batch); err == nil || !strings.Contains(err.Error(), "event 8 of 12") {
		t.Fatalf("Append with an invalid 8th event = %v, want an error naming event 8 of 12", err)
	}
	for i, e := range batch {
		if e.Position != 0 || e.Partition != 0 {
			t.Errorf("event %d got partition %d position %d from a failed append", i, e.Partition, e.Position)
		}
	}
	heads, err := l.Heads(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for p, h := range heads {
		if h != 0 {
			t.Errorf("partition %d has head %d after a refused append", p, h)
		}
	}
}

// assertNamesBrokers fails t unless err is an error that names every broker.
func assertNamesBrokers(t *testing.T, err error, brokers []string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error against unreachable brokers")
	}
	for _, b := range brokers {
		if !strings.Contains(err.Error(), b) {
			t.Errorf("error %q does not name broker %s", err, b)
		}
	}
}

func TestUnreachableBrokers(t *testing.T) {
	t.Parallel()
	const deadline = 1500 * time.Millisecond
	// slack is how much later than its context's deadline a call may return.
	const slack = 2 * time.Second

	// A stopped cluster: its ports refuse connections.
	stopped := kafkatest.StartFake(t)
	stoppedAddrs := stopped.ListenAddrs()
	stopped.Close()

	for _, tt := range []struct {
		name    string
		brokers []string
	}{
		{"stopped cluster", stoppedAddrs},
		{"nothing listening", []string{"127.0.0.1:1"}},
		{"unresolvable host", []string{"kafka.invalid:9092"}},
	} {
		t.Run("Open/"+tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), deadline)
			defer cancel()
			start := time.Now()
			l, err := kafkalog.Open(ctx, kafkalog.Options{Brokers: tt.brokers, Logger: quiet})
			if err == nil {
				l.Close()
			}
			assertNamesBrokers(t, err, tt.brokers)
			if d := time.Since(start); d > deadline+slack {
				t.Errorf("Open gave up after %s with a %s context", d, deadline)
			}
		})
	}

	t.Run("Append after the cluster stopped", func(t *testing.T) {
		t.Parallel()
		c := kafkatest.StartFake(t)
		brokers := c.ListenAddrs()
		l := openLog(t, brokers, manyPartitions)
		if _, err := l.Append(t.Context(), spread("before", 10, 10)); err != nil {
			t.Fatal(err)
		}
		c.Close()

		ctx, cancel := context.WithTimeout(t.Context(), deadline)
		defer cancel()
		start := time.Now()
		evs := spread("after", 10, 10)
		_, err := l.Append(ctx, evs)
		assertNamesBrokers(t, err, brokers)
		if !strings.Contains(err.Error(), l.Topic()) {
			t.Errorf("error %q does not name the topic", err)
		}
		if d := time.Since(start); d > deadline+slack {
			t.Errorf("Append gave up after %s with a %s context", d, deadline)
		}
		for i, e := range evs {
			if e.Position != 0 {
				t.Errorf("event %d got position %d from a failed append", i, e.Position)
			}
		}
		if _, err := l.Heads(ctx); err == nil {
			t.Error("Heads succeeded against a stopped cluster")
		}
	})
}

func TestClosed(t *testing.T) {
	t.Parallel()
	l := openLog(t, kafkatest.Brokers(t), manyPartitions)
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := t.Context()
	calls := []struct {
		name string
		call func() error
	}{
		{"Append", func() error { _, err := l.Append(ctx, logtest.MakeEnvelopes("c", 1, 8)); return err }},
		{"Partitions", func() error { _, err := l.Partitions(ctx); return err }},
		{"ReadPartition", func() error { _, err := l.ReadPartition(ctx, 0, 0, 1); return err }},
		{"Heads", func() error { _, err := l.Heads(ctx); return err }},
		{"WaitPartition", func() error { _, err := l.WaitPartition(ctx, 0, 0); return err }},
		{"RunGroup", func() error { return l.RunGroup(ctx, "g", func(context.Context, []int32) {}) }},
		{"Close", l.Close},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, event.ErrClosed) {
			t.Errorf("%s after Close = %v, want event.ErrClosed", c.name, err)
		}
	}
}
