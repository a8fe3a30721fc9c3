package badging

import (
	"context"
	"slices"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/policies"
	"backlot.dev/backlot/projections/badges"
)

// ResultItem is one entity in a policy's results.
type ResultItem struct {
	Entity  string               `json:"entity"`
	Owner   string               `json:"owner,omitempty"`
	Level   string               `json:"level"`
	Since   time.Time            `json:"since"`
	Failing []event.CheckOutcome `json:"failing"`
}

// OwnerRollup counts an owner's entities per level.
type OwnerRollup struct {
	Owner  string         `json:"owner"`
	Total  int            `json:"total"`
	Counts map[string]int `json:"counts"`
}

// ResultsQuery selects the page of entities PolicyResults lists.
type ResultsQuery struct {
	// ByLevel keeps the entities at Level only; Level NoLevel (or "") is the
	// entities that reach no level.
	ByLevel bool
	Level   string
	// Owner keeps the entities of this owner ref when set.
	Owner string
	// Check keeps the entities failing the check with this id when set.
	Check string
	// After continues after this entity key (the previous page's NextAfter).
	After string
	// Limit caps the page; it must be positive.
	Limit int
}

// Results is a policy's standing: the counts per level over every rated
// entity, the roll-up per owner, and one page of entities with their failing
// checks.
type Results struct {
	Total  int            `json:"total"`
	Counts map[string]int `json:"counts"`
	Owners []OwnerRollup  `json:"owners"`
	Items  []ResultItem   `json:"items"`
	// NextAfter continues the page; "" when it is the last.
	NextAfter string `json:"nextAfter,omitempty"`
}

// PolicyResults reads the policy's standing from br: the counts per level
// (every level of the policy present, with NoLevel), the roll-up per owner in
// the read model's owner order, and up to q.Limit entities matching q in key
// order, with NextAfter set when more follow.
func PolicyResults(ctx context.Context, br badges.Reader, p *policies.Policy, q ResultsQuery) (Results, error) {
	out := Results{Counts: map[string]int{NoLevel: 0}, Owners: []OwnerRollup{}, Items: []ResultItem{}}
	for _, l := range p.Spec.Levels {
		out.Counts[l] = 0
	}
	tally, err := br.Tally(ctx, p.Metadata.Name)
	if err != nil {
		return Results{}, err
	}
	for _, t := range tally {
		l := t.Level
		if l == "" {
			l = NoLevel
		}
		out.Total += t.Count
		out.Counts[l] += t.Count
		if n := len(out.Owners); n == 0 || out.Owners[n-1].Owner != t.Owner {
			out.Owners = append(out.Owners, OwnerRollup{Owner: t.Owner, Counts: map[string]int{}})
		}
		o := &out.Owners[len(out.Owners)-1]
		o.Total += t.Count
		o.Counts[l] += t.Count
	}
	limit := q.Limit
	rq := badges.ResultQuery{Policy: p.Metadata.Name, Owner: q.Owner, After: q.After, Limit: limit + 1}
	if q.ByLevel {
		rq.ByLevel, rq.Level = true, q.Level
		if q.Level == NoLevel {
			rq.Level = ""
		}
	}
	for len(out.Items) <= limit {
		page, err := br.Results(ctx, rq)
		if err != nil {
			return Results{}, err
		}
		for _, b := range page {
			failing := b.Failing()
			if q.Check != "" && !slices.ContainsFunc(failing, func(c event.CheckOutcome) bool { return c.ID == q.Check }) {
				continue
			}
			if failing == nil {
				failing = []event.CheckOutcome{}
			}
			out.Items = append(out.Items, ResultItem{Entity: b.Entity, Owner: b.Owner, Level: b.Level, Since: b.Since.Time, Failing: failing})
		}
		if len(page) < rq.Limit {
			break
		}
		rq.After = page[len(page)-1].Entity
	}
	if len(out.Items) > limit {
		out.Items = out.Items[:limit]
		out.NextAfter = out.Items[limit-1].Entity
	}
	return out, nil
}
