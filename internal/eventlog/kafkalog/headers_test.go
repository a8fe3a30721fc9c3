package kafkalog

import (
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"backlot.dev/backlot/domain/event"
)

// testEnvelope is an event with every attribute set.
func testEnvelope() event.Envelope {
	return event.Envelope{
		ID: "01J0000000000000000000000A", Source: "/backlot/test", SpecVersion: event.SpecVersion,
		Type: "backlot.entity.upserted.v1", Subject: "component:default/checkout",
		Time:       time.Date(2026, 12, 7, 11, 0, 0, 123456789, time.UTC),
		DataSchema: "https://backlot.dev/schemas/entity-upserted-v1.json", Actor: "user:default/ada",
		Commit: "0123456789abcdef", CorrelationID: "corr-1", DataContentType: "application/json",
		Data: []byte(`{"ref":"component:default/checkout"}`),
	}
}

// TestDecodeRecordRoundTripsTheHeaders checks that decodeRecord gives back
// every attribute recordHeaders wrote, the last of a repeated header winning.
func TestDecodeRecordRoundTripsTheHeaders(t *testing.T) {
	want := testEnvelope()
	want.Partition, want.Position = 3, 42
	h := recordHeaders(&want)
	h = append(h, kafka.Header{Key: "other", Value: []byte("ignored")})
	r := &kafka.Record{Offset: 41, Headers: h}
	got, err := decodeRecord("t", 3, r, want.Data)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Time.Equal(want.Time) {
		t.Errorf("time %v, want %v", got.Time, want.Time)
	}
	got.Time = want.Time
	if got.ID != want.ID || got.Source != want.Source || got.SpecVersion != want.SpecVersion || got.Type != want.Type ||
		got.Subject != want.Subject || got.DataSchema != want.DataSchema || got.Actor != want.Actor || got.Commit != want.Commit ||
		got.CorrelationID != want.CorrelationID || got.DataContentType != want.DataContentType ||
		got.Partition != want.Partition || got.Position != want.Position || string(got.Data) != string(want.Data) {
		t.Errorf("decoded %+v, want %+v", got, want)
	}

	r.Headers = append([]kafka.Header{{Key: HeaderActor, Value: []byte("user:default/first")}}, h...)
	r.Headers = append(r.Headers, kafka.Header{Key: HeaderCommit, Value: []byte("last")})
	got, err = decodeRecord("t", 3, r, want.Data)
	if err != nil {
		t.Fatal(err)
	}
	if got.Actor != want.Actor || got.Commit != "last" || got.ID != want.ID {
		t.Errorf("repeated headers: actor %q commit %q id %q, want %q, %q, %q", got.Actor, got.Commit, got.ID, want.Actor, "last", want.ID)
	}
}

// TestDecodeRecordCopiesTheHeadersOnce checks that the attributes of a record
// share one allocation instead of a string each (eleven before).
func TestDecodeRecordCopiesTheHeadersOnce(t *testing.T) {
	e := testEnvelope()
	r := &kafka.Record{Offset: 0, Headers: recordHeaders(&e)}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := decodeRecord("t", 0, r, e.Data); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Errorf("decoding a record's headers allocated %.0f times, want 1", allocs)
	}
}
