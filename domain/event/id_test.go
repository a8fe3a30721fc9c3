package event

import (
	"regexp"
	"testing"
	"time"
)

func TestNewTimeIDIsAnAscendingVersion7UUID(t *testing.T) {
	t.Parallel()
	form := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	start := time.Date(2026, 12, 6, 18, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	prev := ""
	for i := range 2000 {
		id := NewTimeID(start.Add(time.Duration(i) * time.Millisecond))
		if !form.MatchString(id) {
			t.Fatalf("id %q is no version 7 UUID", id)
		}
		if seen[id] {
			t.Fatalf("id %q twice", id)
		}
		seen[id] = true
		if id <= prev {
			t.Fatalf("id %q of a later millisecond sorts before %q", id, prev)
		}
		prev = id
	}
	// The first 48 bits are the Unix time in milliseconds.
	if got := NewTimeID(time.UnixMilli(0x0123456789ab)); got[:13] != "01234567-89ab" {
		t.Errorf("id of 0x0123456789ab ms starts %q", got[:13])
	}
	// Ids of one millisecond differ.
	a, b := NewTimeID(start), NewTimeID(start)
	if a == b || a[:13] != b[:13] {
		t.Errorf("ids of one millisecond: %s, %s", a, b)
	}
}
