package kafkalog_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/kafkalog"
	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
	"backlot.dev/backlot/internal/eventlog/logtest"
)

// consumeAll reads n records of the topic's partition 0 with franz-go, a client
// independent of the one the Log uses.
func consumeAll(t *testing.T, brokers []string, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < n {
		fs := cl.PollFetches(ctx)
		for _, fe := range fs.Errors() {
			t.Fatalf("consume %s: %v", topic, fe.Err)
		}
		recs = append(recs, fs.Records()...)
	}
	return recs
}

func TestRecordsAreBinaryModeCloudEvents(t *testing.T) {
	t.Parallel()
	brokers := kafkatest.Brokers(t)
	l := openLog(t, brokers, 1)
	evs := logtest.MakeEnvelopes("wire", 2, 64)
	evs[0].Time = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.FixedZone("X", 3600))
	evs[1].DataSchema, evs[1].Actor, evs[1].Commit, evs[1].CorrelationID = "", "", "", ""
	if _, err := l.Append(t.Context(), evs); err != nil {
		t.Fatal(err)
	}

	recs := consumeAll(t, brokers, l.Topic(), len(evs))
	wants := []map[string]string{
		{
			"ce_id":            evs[0].ID,
			"ce_source":        "/backlot/catalog",
			"ce_specversion":   "1.0",
			"ce_type":          "backlot.entity.upserted.v1",
			"ce_subject":       "component:default/service-0",
			"ce_time":          "2025-03-14T14:09:26.535897932Z",
			"ce_dataschema":    evs[0].DataSchema,
			"ce_actor":         "user:default/guest",
			"ce_commit":        "3f786850e387550fdab836ed7e6dc881de23001b",
			"ce_correlationid": "corr-wire",
			"content-type":     "application/json",
		},
		{
			"ce_id":          evs[1].ID,
			"ce_source":      "/backlot/catalog",
			"ce_specversion": "1.0",
			"ce_type":        "backlot.entity.upserted.v1",
			"ce_subject":     "component:default/service-1",
			"ce_time":        evs[1].Time.UTC().Format(time.RFC3339Nano),
			"content-type":   "application/json",
		},
	}
	for i, r := range recs {
		got := map[string]string{}
		for _, h := range r.Headers {
			if _, dup := got[h.Key]; dup {
				t.Errorf("record %d: header %s twice", i, h.Key)
			}
			got[h.Key] = string(h.Value)
		}
		if fmt.Sprint(got) != fmt.Sprint(wants[i]) {
			t.Errorf("record %d headers:\n got %v\nwant %v", i, got, wants[i])
		}
		if string(r.Key) != evs[i].Subject {
			t.Errorf("record %d: key %q, want the subject %q", i, r.Key, evs[i].Subject)
		}
		if string(r.Value) != string(evs[i].Data) {
			t.Errorf("record %d: value %q, want the data %q", i, r.Value, evs[i].Data)
		}
		if r.Offset != evs[i].Position-1 {
			t.Errorf("record %d: offset %d, event position %d; want position = offset + 1", i, r.Offset, evs[i].Position)
		}
	}
}

func TestReadRejectsForeignRecords(t *testing.T) {
	t.Parallel()
	brokers := kafkatest.Brokers(t)
	l := openLog(t, brokers, 1)
	if _, err := l.Append(t.Context(), logtest.MakeEnvelopes("ok", 1, 64)); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(l.Topic()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	foreign := &kgo.Record{Key: []byte("k"), Value: []byte(`{"not":"an event"}`),
		Headers: []kgo.RecordHeader{{Key: "ce_id", Value: []byte("x")}}}
	if err := cl.ProduceSync(t.Context(), foreign).FirstErr(); err != nil {
		t.Fatal(err)
	}

	got, err := l.ReadPartition(t.Context(), 0, 0, 10)
	if err == nil {
		t.Fatalf("ReadPartition over a record without ce_ headers returned %d events and no error", len(got))
	}
	for _, want := range []string{l.Topic(), "partition 0", "offset 1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	// The events before it still read.
	if got, err := l.ReadPartition(t.Context(), 0, 0, 1); err != nil || len(got) != 1 {
		t.Fatalf("ReadPartition(0, 0, 1) = %d events, %v; want the event before the foreign record", len(got), err)
	}
}

// TestSplitBatchesStayContiguous appends batches larger than MaxBatchBytes, so that
// each is sent as several record batches, from several goroutines at once: every
// append's events still get consecutive positions.
func TestSplitBatchesStayContiguous(t *testing.T) {
	t.Parallel()
	l := openLog(t, kafkatest.Brokers(t), 1, func(o *kafkalog.Options) { o.MaxBatchBytes = 2 << 10 })
	const writers, batches, size = 4, 5, 30 // 30 events of ~650 bytes: about 10 record batches
	sent := make([][][]event.Envelope, writers)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				batch := logtest.MakeEnvelopes(fmt.Sprintf("w%d-b%d", w, b), size, 200)
				if _, err := l.Append(t.Context(), batch); err != nil {
					errs <- err
					return
				}
				sent[w] = append(sent[w], batch)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for w := range sent {
		for b, batch := range sent[w] {
			for i := 1; i < len(batch); i++ {
				if batch[i].Position != batch[i-1].Position+1 {
					t.Fatalf("writer %d batch %d: event %d at %d after %d", w, b, i, batch[i].Position, batch[i-1].Position)
				}
			}
		}
	}
	heads, err := l.Heads(t.Context())
	if err != nil || heads[0] != writers*batches*size {
		t.Fatalf("Heads = %v, %v; want %d events in partition 0", heads, err, writers*batches*size)
	}
}
