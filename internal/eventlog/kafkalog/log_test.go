package kafkalog_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/kafkalog"
	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
	"backlot.dev/backlot/internal/eventlog/logtest"
)

// openTimeout bounds Open in tests; a fake cluster answers in milliseconds.
const openTimeout = 30 * time.Second

// quiet drops the Log's log lines in tests.
var quiet = slog.New(slog.DiscardHandler)

// openLog opens a Log on a topic of its own with the given partition count, closed
// when t ends; mods adjust the options.
func openLog(t testing.TB, brokers []string, partitions int, mods ...func(*kafkalog.Options)) *kafkalog.Log {
	t.Helper()
	opts := kafkalog.Options{
		Brokers:     brokers,
		TopicPrefix: kafkatest.TopicPrefix(t),
		Partitions:  partitions,
		Logger:      quiet,
	}
	for _, mod := range mods {
		mod(&opts)
	}
	ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
	defer cancel()
	l, err := kafkalog.Open(ctx, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil && !errors.Is(err, event.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

// TestContract runs the event.Log contract suite on a one-partition topic.
//
// Features:
//   - UniqueIDs is off: a topic keeps no index of event IDs, so an ID already in the
//     log is stored again (an ID repeated within a batch is refused, as on every
//     adapter, with event.ErrDuplicateID).
//   - GapFree is on: offsets in a partition are consecutive for a producer without
//     transactions (no control records), Append sends one record batch per
//     partition, which Kafka appends with consecutive offsets, and a refused or
//     cancelled append sends nothing, so it takes no offset.
func TestContract(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	logtest.RunFeatures(t, logtest.Features{UniqueIDs: false, GapFree: true}, func(t *testing.T) event.Log {
		s, err := openLog(t, brokers, 1).Single()
		if err != nil {
			t.Fatalf("Single: %v", err)
		}
		return s
	})
}
