package kafkalog

import (
	"fmt"
	"strings"
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
// Backlot event is an error naming the topic, partition and offset. The attributes
// share one string, copied from the headers at once, instead of a string each.
func decodeRecord(topic string, p int32, r *kafka.Record, data []byte) (event.Envelope, error) {
	// The header of each attribute (the last of a repeated one), by attrHeaders' order.
	var at [len(attrHeaders)]int
	n := 0
	for i, h := range r.Headers {
		if a := attrOf(h.Key); a >= 0 {
			if at[a] > 0 {
				n -= len(r.Headers[at[a]-1].Value)
			}
			at[a] = i + 1
			n += len(h.Value)
		}
	}
	var b strings.Builder
	b.Grow(n)
	for _, i := range at {
		if i > 0 {
			b.Write(r.Headers[i-1].Value)
		}
	}
	all := b.String()
	var v [len(attrHeaders)]string
	off := 0
	for a, i := range at {
		if i > 0 {
			l := len(r.Headers[i-1].Value)
			v[a] = all[off : off+l]
			off += l
		}
	}
	e := event.Envelope{
		ID:              v[attrID],
		Source:          v[attrSource],
		SpecVersion:     v[attrSpecVersion],
		Type:            v[attrType],
		Subject:         v[attrSubject],
		DataSchema:      v[attrDataSchema],
		Actor:           v[attrActor],
		Commit:          v[attrCommit],
		CorrelationID:   v[attrCorrelationID],
		DataContentType: v[attrContentType],
		Data:            data,
		Partition:       p,
		Position:        r.Offset + 1,
	}
	if rawTime := v[attrTime]; rawTime != "" {
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

// The attributes decodeRecord reads, as indexes of attrHeaders.
const (
	attrID = iota
	attrSource
	attrSpecVersion
	attrType
	attrSubject
	attrTime
	attrDataSchema
	attrActor
	attrCommit
	attrCorrelationID
	attrContentType
)

// attrHeaders are the headers of the attributes, by index.
var attrHeaders = [...]string{
	attrID: HeaderID, attrSource: HeaderSource, attrSpecVersion: HeaderSpecVersion, attrType: HeaderType,
	attrSubject: HeaderSubject, attrTime: HeaderTime, attrDataSchema: HeaderDataSchema, attrActor: HeaderActor,
	attrCommit: HeaderCommit, attrCorrelationID: HeaderCorrelationID, attrContentType: HeaderContentType,
}

// attrOf returns the index of the attribute header key carries, or -1 for a
// header that is not an attribute.
func attrOf(key string) int {
	switch key {
	case HeaderID:
		return attrID
	case HeaderSource:
		return attrSource
	case HeaderSpecVersion:
		return attrSpecVersion
	case HeaderType:
		return attrType
	case HeaderSubject:
		return attrSubject
	case HeaderTime:
		return attrTime
	case HeaderDataSchema:
		return attrDataSchema
	case HeaderActor:
		return attrActor
	case HeaderCommit:
		return attrCommit
	case HeaderCorrelationID:
		return attrCorrelationID
	case HeaderContentType:
		return attrContentType
	}
	return -1
}
