package messaging

import (
	"fmt"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"backlot.dev/backlot/domain/event"
)

// Metadata keys of a message that carries an event. The ce_ keys are the
// CloudEvents Kafka binary-mode header names.
const (
	MetaID            = "ce_id"
	MetaSource        = "ce_source"
	MetaSpecVersion   = "ce_specversion"
	MetaType          = "ce_type"
	MetaSubject       = "ce_subject"
	MetaTime          = "ce_time"
	MetaDataSchema    = "ce_dataschema"
	MetaActor         = "ce_actor"
	MetaCommit        = "ce_commit"
	MetaCorrelationID = "ce_correlationid"
	MetaContentType   = "content-type"
	// MetaKey is the Kafka message key a publisher writes: the subject, so one
	// entity's messages stay in one partition.
	MetaKey = "partition_key"
	// MetaPartition and MetaPosition say where a subscriber read the message.
	MetaPartition = "backlot_partition"
	MetaPosition  = "backlot_position"
)

// ToMessage turns an envelope into a Watermill message: the event id is the
// message UUID, the attributes are metadata and the data is the payload. The
// correlation id is also set where Watermill's CorrelationID middleware looks.
func ToMessage(ev event.Envelope) *message.Message {
	msg := message.NewMessage(ev.ID, message.Payload(ev.Data))
	md := msg.Metadata
	md.Set(MetaID, ev.ID)
	md.Set(MetaSource, ev.Source)
	md.Set(MetaSpecVersion, ev.SpecVersion)
	md.Set(MetaType, ev.Type)
	md.Set(MetaSubject, ev.Subject)
	md.Set(MetaTime, ev.Time.UTC().Format(time.RFC3339Nano))
	md.Set(MetaContentType, ev.DataContentType)
	md.Set(MetaKey, ev.Subject)
	for k, v := range map[string]string{MetaDataSchema: ev.DataSchema, MetaActor: ev.Actor, MetaCommit: ev.Commit, MetaCorrelationID: ev.CorrelationID} {
		if v != "" {
			md.Set(k, v)
		}
	}
	if ev.CorrelationID != "" {
		middleware.SetCorrelationID(ev.CorrelationID, msg)
	}
	if ev.Position > 0 {
		md.Set(MetaPartition, strconv.FormatInt(int64(ev.Partition), 10))
		md.Set(MetaPosition, strconv.FormatInt(ev.Position, 10))
	}
	return msg
}

// FromMessage reads an envelope back from a message ToMessage made or a
// subscriber delivered, with its partition and position when they are known.
func FromMessage(msg *message.Message) (event.Envelope, error) {
	md := msg.Metadata
	ev := event.Envelope{
		ID:              md.Get(MetaID),
		Source:          md.Get(MetaSource),
		SpecVersion:     md.Get(MetaSpecVersion),
		Type:            md.Get(MetaType),
		Subject:         md.Get(MetaSubject),
		DataContentType: md.Get(MetaContentType),
		DataSchema:      md.Get(MetaDataSchema),
		Actor:           md.Get(MetaActor),
		Commit:          md.Get(MetaCommit),
		CorrelationID:   md.Get(MetaCorrelationID),
		Data:            append([]byte(nil), msg.Payload...),
	}
	if ev.ID == "" {
		ev.ID = msg.UUID
	}
	if ts := md.Get(MetaTime); ts != "" {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return ev, fmt.Errorf("message %s: %s %q: %w", msg.UUID, MetaTime, ts, err)
		}
		ev.Time = t.UTC()
	}
	if p := md.Get(MetaPosition); p != "" {
		pos, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return ev, fmt.Errorf("message %s: %s %q: %w", msg.UUID, MetaPosition, p, err)
		}
		part, err := strconv.ParseInt(md.Get(MetaPartition), 10, 32)
		if err != nil {
			return ev, fmt.Errorf("message %s: %s %q: %w", msg.UUID, MetaPartition, md.Get(MetaPartition), err)
		}
		ev.Position, ev.Partition = pos, int32(part)
	}
	if err := ev.Validate(); err != nil {
		return ev, fmt.Errorf("message %s is not a Backlot event: %w", msg.UUID, err)
	}
	return ev, nil
}
