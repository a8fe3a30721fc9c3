package badges

import (
	"slices"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/history"
)

// At returns the verdicts that a list of one entity's changes (in log order)
// says held at the instant: per policy, the last change at or before it, when
// the policy rated the entity then. The result is sorted by policy.
func At(changes []Change, at history.Instant) []Badge {
	last := map[string]Change{}
	for _, c := range changes {
		if !reached(c.Mark, at) {
			continue
		}
		last[c.Data.Policy] = c
	}
	var out []Badge
	for _, c := range last {
		if !c.Data.Applies {
			continue
		}
		ev := &event.Envelope{ID: c.EventID, Position: c.Position, Partition: c.Partition, Time: c.Time}
		out = append(out, BadgeOf(ev, &c.Data))
	}
	slices.SortFunc(out, func(a, b Badge) int {
		if a.Policy < b.Policy {
			return -1
		}
		if a.Policy > b.Policy {
			return 1
		}
		return 0
	})
	return out
}

// reached reports whether the event at m had happened at the instant.
func reached(m history.Mark, at history.Instant) bool {
	if p, ok := at.Positions(); ok {
		return m.Position <= p[m.Partition]
	}
	t, _ := at.Time()
	return !m.Time.After(t)
}
