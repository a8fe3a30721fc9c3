package kafkalog

import (
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"backlot.dev/backlot/domain/event"
)

// The Kafka headers of the CloudEvents Kafka protocol binding in binary mode: every
// context attribute is a header named ce_<attribute>, datacontenttype is the
// content-type header, and the record value is the event data.
const (
	// HeaderID carries Envelope.ID.
	HeaderID = "ce_id"
	// HeaderSource carries Envelope.Source.
	HeaderSource = "ce_source"
	// HeaderSpecVersion carries Envelope.SpecVersion, always "1.0".
	HeaderSpecVersion = "ce_specversion"
	// HeaderType carries Envelope.Type.
	HeaderType = "ce_type"
	// HeaderSubject carries Envelope.Subject, which is also the record key.
	HeaderSubject = "ce_subject"
	// HeaderTime carries Envelope.Time in RFC 3339, in UTC, with nanoseconds.
	HeaderTime = "ce_time"
	// HeaderDataSchema carries Envelope.DataSchema; absent when empty.
	HeaderDataSchema = "ce_dataschema"
	// HeaderActor carries the actor extension, Envelope.Actor; absent when empty.
	HeaderActor = "ce_actor"
	// HeaderCommit carries the commit extension, Envelope.Commit; absent when empty.
	HeaderCommit = "ce_commit"
	// HeaderCorrelationID carries the correlationid extension,
	// Envelope.CorrelationID; absent when empty.
	HeaderCorrelationID = "ce_correlationid"
	// HeaderContentType carries Envelope.DataContentType (application/json);
	// absent when empty.
	HeaderContentType = "content-type"
)

// timeFormat is the format of ce_time: RFC 3339 in UTC with as many fractional-second
// digits as needed (nanoseconds kept).
const timeFormat = time.RFC3339Nano

// recordHeaders returns the headers of e in binary mode; optional attributes that are
// empty get no header. The values share one allocation.
func recordHeaders(e *event.Envelope) []kafka.Header {
	var stamp [len(time.RFC3339Nano) + 8]byte
	t := e.Time.UTC().AppendFormat(stamp[:0], timeFormat)
	attrs := [...]struct {
		key   string
		value string
	}{
		{HeaderID, e.ID},
		{HeaderSource, e.Source},
		{HeaderSpecVersion, e.SpecVersion},
		{HeaderType, e.Type},
		{HeaderSubject, e.Subject},
		{HeaderTime, ""}, // t
		{HeaderDataSchema, e.DataSchema},
		{HeaderActor, e.Actor},
		{HeaderCommit, e.Commit},
		{HeaderCorrelationID, e.CorrelationID},
		{HeaderContentType, e.DataContentType},
	}
	size := len(t)
	for _, a := range attrs {
		size += len(a.value)
	}
	buf := make([]byte, 0, size)
	h := make([]kafka.Header, 0, len(attrs))
	for _, a := range attrs {
		start := len(buf)
		if a.key == HeaderTime {
			buf = append(buf, t...)
		} else {
			buf = append(buf, a.value...)
		}
		if len(buf) > start {
			h = append(h, kafka.Header{Key: a.key, Value: buf[start:len(buf):len(buf)]})
		}
	}
	return h
}

// headersSize is the number of bytes the headers of e take in a record, roughly.
func headersSize(h []kafka.Header) int {
	n := 0
	for _, x := range h {
		n += len(x.Key) + len(x.Value) + 4
	}
	return n
}

// decodeRecord rebuilds the envelope stored in a record of partition p; data is the
// record's value, already copied out of the fetch buffer. A record that is not a valid
// Backlot event is an error naming the topic, partition and offset.
func decodeRecord(topic string, p int32, r *kafka.Record, data []byte) (event.Envelope, error) {
	e := event.Envelope{
		Data:      data,
		Partition: p,
		Position:  r.Offset + 1,
	}
	var rawTime string
	for _, h := range r.Headers {
		v := string(h.Value)
		switch h.Key {
		case HeaderID:
			e.ID = v
		case HeaderSource:
			e.Source = v
		case HeaderSpecVersion:
			e.SpecVersion = v
		case HeaderType:
			e.Type = v
		case HeaderSubject:
			e.Subject = v
		case HeaderTime:
			rawTime = v
		case HeaderDataSchema:
			e.DataSchema = v
		case HeaderActor:
			e.Actor = v
		case HeaderCommit:
			e.Commit = v
		case HeaderCorrelationID:
			e.CorrelationID = v
		case HeaderContentType:
			e.DataContentType = v
		}
	}
	if rawTime != "" {
		t, err := time.Parse(timeFormat, rawTime)
		if err != nil {
			return event.Envelope{}, fmt.Errorf("kafkalog: topic %s partition %d offset %d: header %s: %w",
				topic, p, r.Offset, HeaderTime, err)
		}
		e.Time = t
	}
	if err := e.Validate(); err != nil {
		return event.Envelope{}, fmt.Errorf("kafkalog: topic %s partition %d offset %d is not a Backlot event "+
			"(CloudEvents binary mode, headers %s, %s, %s, %s, %s, %s and a JSON value): %w",
			topic, p, r.Offset, HeaderID, HeaderSource, HeaderSpecVersion, HeaderType, HeaderSubject, HeaderTime, err)
	}
	return e, nil
}
