package feed

import "backlot.dev/backlot/domain/event"

// Filter selects events of the feed.
type Filter struct {
	// Types matches any of these types when not empty.
	Types []string
	// Subject matches exactly this entity ref when set.
	Subject string
}

// Matches reports whether the event passes the filter: its subject is
// Subject (when set) and its type one of Types (when any).
func (f Filter) Matches(ev *event.Envelope) bool {
	if f.Subject != "" && ev.Subject != f.Subject {
		return false
	}
	if len(f.Types) == 0 {
		return true
	}
	for _, t := range f.Types {
		if t == ev.Type {
			return true
		}
	}
	return false
}
