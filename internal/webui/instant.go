package webui

import (
	"context"
	"strings"
	"time"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/history"
)

// ParseInstant reads an instant from a page's URL: an RFC 3339 time, the
// value of a datetime-local field (read as UTC), or a log position. An
// instant that does not parse is a fault.Invalid error naming the
// parameter.
func ParseInstant(param, v string) (history.Instant, time.Time, error) {
	v = strings.TrimSpace(v)
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return history.AtTime(t), t, nil
		}
	}
	at, err := history.ParseInstant(v)
	if err != nil {
		return history.Instant{}, time.Time{}, fault.New(fault.Invalid, param, "%s: %v", param, err)
	}
	t, _ := time.Parse(time.RFC3339Nano, v)
	return at, t, nil
}

// catalogAt returns the catalog now ("" instant) or as of the instant in
// the URL parameter asOf.
func (s *Server) catalogAt(ctx context.Context, asOf string) (catalogstore.Reader, error) {
	if asOf == "" {
		return s.cfg.Catalog, nil
	}
	if s.cfg.AsOf == nil {
		return nil, fault.New(fault.Unavailable, "asOf", "this server keeps no history, so it cannot show the catalog as of an instant")
	}
	at, _, err := ParseInstant("asOf", asOf)
	if err != nil {
		return nil, err
	}
	return s.cfg.AsOf(ctx, at)
}
