package badges

import (
	"fmt"
	"time"

	"backlot.dev/backlot/domain/event"
)

// Rows is what the adapters' result sets (database/sql's and pgx's) have in
// common; the Scan helpers read them the same way for every adapter.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// ScanBadges reads rows of the change that made each verdict: partition,
// position, time (Unix nanoseconds), event id and data (JSON), and returns the
// verdicts they made (BadgeOf).
func ScanBadges(rows Rows) ([]Badge, error) {
	var out []Badge
	for rows.Next() {
		var ev event.Envelope
		var at int64
		var data []byte
		if err := rows.Scan(&ev.Partition, &ev.Position, &at, &ev.ID, &data); err != nil {
			return nil, err
		}
		var d event.BadgeChanged
		if err := DecodeBadgeChanged(data, &d); err != nil {
			return nil, fmt.Errorf("badge store: stored change %s: %w", ev.ID, err)
		}
		ev.Time = time.Unix(0, at).UTC()
		out = append(out, BadgeOf(&ev, &d))
	}
	return out, rows.Err()
}

// ScanTally reads rows of owner, level and count.
func ScanTally(rows Rows) ([]TallyRow, error) {
	var out []TallyRow
	for rows.Next() {
		var r TallyRow
		if err := rows.Scan(&r.Owner, &r.Level, &r.Count); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ScanChanges calls fn for each row of partition, position, time (Unix
// nanoseconds), event id, type and data (JSON), until fn returns false.
func ScanChanges(rows Rows, fn func(Change) bool) error {
	for rows.Next() {
		var c Change
		var at int64
		var data []byte
		if err := rows.Scan(&c.Partition, &c.Position, &at, &c.EventID, &c.Type, &data); err != nil {
			return err
		}
		c.Time = time.Unix(0, at).UTC()
		if err := DecodeBadgeChanged(data, &c.Data); err != nil {
			return fmt.Errorf("badge store: stored change %s: %w", c.EventID, err)
		}
		if !fn(c) {
			return nil
		}
	}
	return rows.Err()
}
