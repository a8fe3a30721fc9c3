package main

import (
	"testing"
	"time"
)

// TestEveryInstantIsReadOneWay: now, durations and dates, as every
// command takes them.
func TestEveryInstantIsReadOneWay(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"now", now},
		{"NOW", now},
		{"-2h", now.Add(-2 * time.Hour)},
		{"2h", now.Add(-2 * time.Hour)},
		{"+30m", now.Add(30 * time.Minute)},
		{"-7d", now.Add(-7 * 24 * time.Hour)},
		{"2026-11-25", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)},
		{"2026-11-25T10:00:00Z", time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)},
		{"2026-11-25T10:00:00", time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)},
		{"2026-11-25T11:00:00+01:00", time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)},
	} {
		got, err := parseInstant(tc.in, now)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseInstant(%q) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "--2h", "2026-13-01", "-h"} {
		if _, err := parseInstant(bad, now); err == nil {
			t.Errorf("parseInstant(%q) accepted", bad)
		}
	}
	for in, want := range map[string]string{"42": "42", "1:42": "1:42", "-1h": "2026-12-06T11:00:00Z", "2026-11-25": "2026-11-25T00:00:00Z"} {
		if got, err := instantOrPosition(in, now); err != nil || got != want {
			t.Errorf("instantOrPosition(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if got := positionText(0, 42) + " " + positionText(2, 7); got != "42 2:7" {
		t.Errorf("positions print as %q", got)
	}
}
