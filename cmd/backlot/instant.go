package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"backlot.dev/backlot/domain/event"
)

// instantHelp says what every flag and argument that names an instant takes.
const instantHelp = "now, a duration ago (2h, -30m, 7d; +1h is ahead), a date (2026-11-25) or an RFC 3339 time"

// parseInstant reads an instant as every command takes it: "now"; a
// duration from now, signed or not (-2h and 2h are both two hours ago, +2h
// is two hours ahead; d counts days); a date (midnight UTC); or an RFC 3339
// time, with or without its zone (UTC when without).
func parseInstant(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return time.Time{}, fmt.Errorf("an empty instant: want %s", instantHelp)
	case strings.EqualFold(s, "now"):
		return now, nil
	}
	if d, ok := parseAgo(s); ok {
		return now.Add(d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an instant: want %s", s, instantHelp)
}

// parseAgo reads a duration from now: -2h or 2h is two hours ago, +2h two
// hours ahead; a d suffix counts days.
func parseAgo(s string) (time.Duration, bool) {
	sign := time.Duration(-1)
	body := s
	switch s[0] {
	case '+':
		sign, body = 1, s[1:]
	case '-':
		body = s[1:]
	}
	if n, ok := strings.CutSuffix(body, "d"); ok {
		days, err := strconv.ParseFloat(n, 64)
		if err != nil || days < 0 {
			return 0, false
		}
		return sign * time.Duration(days*float64(24*time.Hour)), true
	}
	d, err := time.ParseDuration(body)
	if err != nil || d < 0 || strings.HasPrefix(body, "+") || strings.HasPrefix(body, "-") {
		return 0, false
	}
	return sign * d, true
}

// instantOrPosition reads what the as-of arguments take: a log position
// (42, or partition:position on Kafka, passed on as it is) or an instant
// (parseInstant), answered as an RFC 3339 time.
func instantOrPosition(s string, now time.Time) (string, error) {
	if _, err := event.ParsePositions(s); err == nil && strings.TrimSpace(s) != "" {
		return strings.TrimSpace(s), nil
	}
	t, err := parseInstant(s, now)
	if err != nil {
		return "", fmt.Errorf("%q is neither a log position nor an instant: want a position (42) or %s", s, instantHelp)
	}
	return t.UTC().Format(time.RFC3339Nano), nil
}

// positionText is the one way a log position is printed: its number, and
// on a partitioned log (Kafka) partition:position, as --after, as-of and
// --checkpoint read it back.
func positionText(partition int32, position int64) string {
	if partition == 0 {
		return strconv.FormatInt(position, 10)
	}
	return event.Positions{partition: position}.String()
}
