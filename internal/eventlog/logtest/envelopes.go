package logtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"backlot.dev/backlot/domain/event"
)

// baseTime is the time of the first envelope MakeEnvelopes builds.
var baseTime = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

// MakeEnvelopes returns n valid, distinct envelopes of type backlot.entity.upserted.v1
// about ten subjects in turn, with fresh random IDs, times one millisecond apart, every
// optional attribute set, and JSON data of at least dataSize bytes. Their Position is
// zero. Tag is written into the data so a test can tell which batch an event came from.
func MakeEnvelopes(tag string, n, dataSize int) []event.Envelope {
	evs := make([]event.Envelope, n)
	for i := range evs {
		subject := fmt.Sprintf("component:default/service-%d", i%10)
		payload := struct {
			Tag string `json:"tag"`
			Seq int    `json:"seq"`
			Ref string `json:"ref"`
			Pad string `json:"pad"`
		}{Tag: tag, Seq: i, Ref: subject}
		raw, _ := json.Marshal(payload)
		if pad := dataSize - len(raw); pad > 0 {
			payload.Pad = strings.Repeat("x", pad)
			raw, _ = json.Marshal(payload)
		}
		evs[i] = event.Envelope{
			ID:              event.NewID(),
			Source:          event.DefaultSource,
			SpecVersion:     event.SpecVersion,
			Type:            string(event.TypeEntityUpserted),
			Subject:         subject,
			Time:            baseTime.Add(time.Duration(i) * time.Millisecond),
			DataContentType: event.ContentTypeJSON,
			DataSchema:      event.TypeEntityUpserted.SchemaURI(),
			Actor:           "user:default/guest",
			Commit:          "3f786850e387550fdab836ed7e6dc881de23001b",
			CorrelationID:   "corr-" + tag,
			Data:            raw,
		}
	}
	return evs
}

// Diff returns "" when got carries the same event as want, or a description of the
// first field that differs. Times are compared with time.Time.Equal, so an adapter may
// return them in another location; Data is compared byte for byte; Position is
// compared too.
func Diff(want, got event.Envelope) string {
	type field struct {
		name      string
		want, got string
	}
	for _, f := range []field{
		{"ID", want.ID, got.ID},
		{"Source", want.Source, got.Source},
		{"SpecVersion", want.SpecVersion, got.SpecVersion},
		{"Type", want.Type, got.Type},
		{"Subject", want.Subject, got.Subject},
		{"DataContentType", want.DataContentType, got.DataContentType},
		{"DataSchema", want.DataSchema, got.DataSchema},
		{"Actor", want.Actor, got.Actor},
		{"Commit", want.Commit, got.Commit},
		{"CorrelationID", want.CorrelationID, got.CorrelationID},
	} {
		if f.want != f.got {
			return fmt.Sprintf("event %s: %s = %q, want %q", want.ID, f.name, f.got, f.want)
		}
	}
	if !want.Time.Equal(got.Time) {
		return fmt.Sprintf("event %s: Time = %s, want %s", want.ID,
			got.Time.Format(time.RFC3339Nano), want.Time.Format(time.RFC3339Nano))
	}
	if !bytes.Equal(want.Data, got.Data) {
		return fmt.Sprintf("event %s: Data = %q, want %q", want.ID, got.Data, want.Data)
	}
	if want.Position != got.Position {
		return fmt.Sprintf("event %s: Position = %d, want %d", want.ID, got.Position, want.Position)
	}
	return ""
}
