package history

import (
	"fmt"
	"strings"
	"time"

	"backlot.dev/backlot/domain/event"
)

// Instant is a moment of the catalog's past: a time, or the log positions a
// reader had applied. The zero Instant is the time zero, before everything.
type Instant struct {
	t     time.Time
	pos   event.Positions
	isPos bool
}

// AtTime is the instant t: the catalog after every event whose (held) time is
// at or before t.
func AtTime(t time.Time) Instant { return Instant{t: t.UTC()} }

// AtPositions is the instant the log had reached p: the catalog after every
// event at or below p's position of its partition. A partition p does not name
// counts as position 0.
func AtPositions(p event.Positions) Instant { return Instant{pos: p.Clone(), isPos: true} }

// Time returns the instant's time and true, or false for a positions instant.
func (i Instant) Time() (time.Time, bool) { return i.t, !i.isPos }

// Positions returns the instant's positions and true, or false for a time instant.
func (i Instant) Positions() (event.Positions, bool) { return i.pos, i.isPos }

// String renders the instant as ParseInstant reads it: RFC 3339 with
// nanoseconds, or event.Positions' form.
func (i Instant) String() string {
	if i.isPos {
		return i.pos.String()
	}
	return i.t.Format(time.RFC3339Nano)
}

// ParseInstant reads an RFC 3339 time (2026-11-25T12:00:00Z) or a log position
// in event.ParsePositions' form (a bare number for partition 0, or
// "0:12,3:40"), as the asOf parameter and the audit commands write them.
func ParseInstant(s string) (Instant, error) {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, "T-") {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return Instant{}, fmt.Errorf("instant %q: not an RFC 3339 time: %w", s, err)
		}
		return AtTime(t), nil
	}
	p, err := event.ParsePositions(s)
	if err != nil {
		return Instant{}, fmt.Errorf("instant %q: neither an RFC 3339 time nor a log position: %w", s, err)
	}
	if len(p) == 0 {
		return Instant{}, fmt.Errorf("instant: empty")
	}
	return AtPositions(p), nil
}
