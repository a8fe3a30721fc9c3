package badges

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/projections/history"
)

// ProjectionName is the name under which the badge read model records its position.
const ProjectionName = "badges"

// ErrNotFound is returned when a fact source or a badge does not exist.
var ErrNotFound = fault.Sentinel(fault.NotFound, "badges: not found")

// FactSet is what one source last reported about an entity.
type FactSet struct {
	// Source names the reporting system.
	Source string `json:"source"`
	// Facts is the JSON object of facts by name.
	Facts json.RawMessage `json:"facts"`
	// ObservedAt is when the source observed them.
	ObservedAt time.Time `json:"observedAt"`
	// Position is the log position of the report.
	Position int64 `json:"position"`
}

// Badge is one policy's verdict on one entity.
type Badge struct {
	// Entity is the entity's key (its lower-case ref).
	Entity string `json:"entity"`
	// Owner is the entity's owner ref, "" when it has none.
	Owner string `json:"owner,omitempty"`
	// Policy is the policy's id.
	Policy string `json:"policy"`
	// Level is the highest level reached, "" for none; Rank is its index among
	// the policy's levels plus one, 0 for none.
	Level string `json:"level"`
	Rank  int    `json:"rank"`
	// Checks is every check's verdict.
	Checks []event.CheckOutcome `json:"checks"`
	// Campaigns lists the policy's campaigns that count the entity.
	Campaigns []string `json:"campaigns,omitempty"`
	// EntityHash is the hash of the rated entity body.
	EntityHash string `json:"entityHash,omitempty"`
	// Since is the event that made this verdict.
	Since history.Mark `json:"since"`
	// EventID is that event's id.
	EventID string `json:"eventId"`
}

// Failing returns the checks that did not pass.
func (b *Badge) Failing() []event.CheckOutcome {
	var out []event.CheckOutcome
	for _, c := range b.Checks {
		if !c.Passed {
			out = append(out, c)
		}
	}
	return out
}

// Change is one change of a verdict, as the log recorded it.
type Change struct {
	// Mark is the event's position and time.
	history.Mark
	// EventID and Type identify the event.
	EventID string `json:"eventId"`
	Type    string `json:"type"`
	// Data is the event's data.
	Data event.BadgeChanged `json:"data"`
}

// Reader answers questions about facts and badges.
type Reader interface {
	// Positions returns the last log position applied in each partition.
	Positions(ctx context.Context) (event.Positions, error)
	// Facts returns what every source reported about the entity (key), by source.
	Facts(ctx context.Context, key string) ([]FactSet, error)
	// FactsOf returns what every source reported about several entities, by key.
	FactsOf(ctx context.Context, keys []string) (map[string][]FactSet, error)
	// FactSource returns the JSON Schema the source declared, or ErrNotFound.
	FactSource(ctx context.Context, source string) (json.RawMessage, error)
	// Badges returns the entity's current verdicts, by policy id.
	Badges(ctx context.Context, key string) ([]Badge, error)
	// VerdictsOf returns the current verdicts of several entities, by key,
	// in the light form the evaluator compares with (no checks).
	VerdictsOf(ctx context.Context, keys []string) (map[string][]Verdict, error)
	// BadgesOf returns the current verdicts of several entities in full, by
	// key, each entity's by policy id.
	BadgesOf(ctx context.Context, keys []string) (map[string][]Badge, error)
	// BadgesAt returns the entity's verdicts as they were at the instant.
	BadgesAt(ctx context.Context, key string, at history.Instant) ([]Badge, error)
	// Results returns a page of a policy's current verdicts, in entity order.
	Results(ctx context.Context, q ResultQuery) ([]Badge, error)
	// Tally counts a policy's current verdicts per owner and level.
	Tally(ctx context.Context, policy string) ([]TallyRow, error)
	// Changes calls fn for every change of the policy's verdicts (every
	// policy's when policy is ""), in time order (ties in log order), until fn
	// returns false.
	Changes(ctx context.Context, policy string, fn func(Change) bool) error
	// EntityChanges returns the changes of one entity's verdicts, in log order.
	EntityChanges(ctx context.Context, key string) ([]Change, error)
}

// Store is the badge read model: a Reader that applies events.
type Store interface {
	Reader
	// Apply folds the events in one transaction, with the position of the
	// last one. Events at or below the recorded position are skipped, so
	// applying a batch twice changes nothing.
	Apply(ctx context.Context, events []event.Envelope) error
	// Close releases the store.
	Close() error
}

// Op is one event the badge read model folds, decoded.
type Op struct {
	Ev     *event.Envelope
	Facts  *event.FactsReported
	Source *event.FactSourceDeclared
	Badge  *event.BadgeChanged
}

// Decode decodes the events above applied that the read model folds, in
// order; it names an event whose data does not decode. Each is read as the
// newest version of its type: an Op's Ev is the event upcast (event.Upcast),
// a copy when it was of an older version, so the stores record the newest
// type and data.
//
// A large batch is decoded on every core, in chunks; the ops and the error
// (of the first event in log order that fails) are those of decoding one
// event at a time.
func Decode(events []event.Envelope, applied event.Positions) ([]Op, error) {
	workers := min(runtime.GOMAXPROCS(0), len(events)/decodeChunk)
	if workers <= 1 {
		return decodeRange(events, applied)
	}
	n := (len(events) + workers - 1) / workers
	parts := make([][]Op, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			parts[w], errs[w] = decodeRange(events[w*n:min((w+1)*n, len(events))], applied)
		})
	}
	wg.Wait()
	var ops []Op
	for w := range workers {
		if errs[w] != nil {
			return nil, errs[w]
		}
		ops = append(ops, parts[w]...)
	}
	return ops, nil
}

// decodeChunk is the fewest events a core decodes of a batch: below it, a
// goroutine costs more than it saves.
const decodeChunk = 256

// decodeRange decodes events one at a time (see Decode).
func decodeRange(events []event.Envelope, applied event.Positions) ([]Op, error) {
	var ops []Op
	for i := range events {
		ev := &events[i]
		if ev.Position <= applied[ev.Partition] {
			continue
		}
		if event.Type(ev.Type).Latest() != event.Type(ev.Type) {
			up, err := event.Upcast(*ev)
			if err != nil {
				return nil, err
			}
			ev = &up
		}
		o := Op{Ev: ev}
		var err error
		switch t := event.Type(ev.Type); {
		case t == event.TypeFactsReported:
			o.Facts = &event.FactsReported{}
			err = ev.Decode(o.Facts)
			if err == nil && o.Facts.ObservedAt.IsZero() {
				o.Facts.ObservedAt = ev.Time
			}
		case t == event.TypeFactSourceDeclared:
			o.Source = &event.FactSourceDeclared{}
			err = ev.Decode(o.Source)
		case t.IsBadge():
			// ev is of the newest version: its data is read as it is, by the
			// scanner when it can (DecodeBadgeChanged), else with the
			// upcasters' error naming the event.
			o.Badge = &event.BadgeChanged{}
			if !fastBadgeChanged(ev.Data, o.Badge) {
				*o.Badge = event.BadgeChanged{}
				err = ev.Decode(o.Badge)
			}
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		ops = append(ops, o)
	}
	return ops, nil
}

// Key returns the key of an entity ref as events carry it.
func Key(ref string) string { return strings.ToLower(ref) }

// BadgeOf returns the verdict a badge event records.
func BadgeOf(ev *event.Envelope, d *event.BadgeChanged) Badge {
	checks := d.Checks
	if checks == nil {
		checks = []event.CheckOutcome{}
	}
	return Badge{Entity: Key(d.Entity), Owner: d.Owner, Policy: d.Policy, Level: d.Level, Rank: d.LevelRank,
		Checks: checks, Campaigns: d.Campaigns, EntityHash: d.EntityHash,
		Since: history.Mark{Pos: history.Pos{Partition: ev.Partition, Position: ev.Position}, Time: ev.Time.UTC()}, EventID: ev.ID}
}

// Verdict is a current verdict as the evaluator compares it: its level and
// digest (DigestOf). The full verdict (Reader.BadgesOf) is read only when a
// new one's digest differs.
type Verdict struct {
	Policy string
	Level  string
	Digest string
}

// DigestOf returns the digest of what a badge event says of its entity: the
// level, the owner, the campaigns and every check's outcome. Two verdicts
// with equal digests need no event between them.
//
// The digest is the SHA-256 of the fields in one buffer, laid out as
// fmt's "%t\x00%s\x00%d\x00%s\x00%s\x00" and "%s\x01%s\x01%t\x01%s\x01%s\x00"
// per check lay them out (stored digests stay valid), without fmt.
func DigestOf(d *event.BadgeChanged) string {
	n := 32 + len(d.Level) + len(d.Owner)
	for _, c := range d.Campaigns {
		n += len(c) + 1
	}
	for _, c := range d.Checks {
		n += 10 + len(c.ID) + len(c.Level) + len(c.Message) + len(c.Error)
	}
	b := make([]byte, 0, n)
	b = strconv.AppendBool(b, d.Applies)
	b = append(b, 0)
	b = append(b, d.Level...)
	b = append(b, 0)
	b = strconv.AppendInt(b, int64(d.LevelRank), 10)
	b = append(b, 0)
	b = append(b, d.Owner...)
	b = append(b, 0)
	for i, c := range d.Campaigns {
		if i > 0 {
			b = append(b, 1)
		}
		b = append(b, c...)
	}
	b = append(b, 0)
	for _, c := range d.Checks {
		b = append(b, c.ID...)
		b = append(b, 1)
		b = append(b, c.Level...)
		b = append(b, 1)
		b = strconv.AppendBool(b, c.Passed)
		b = append(b, 1)
		b = append(b, c.Message...)
		b = append(b, 1)
		b = append(b, c.Error...)
		b = append(b, 0)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// ResultQuery selects a page of a policy's verdicts.
type ResultQuery struct {
	// Policy is the policy's id.
	Policy string
	// Level, when ByLevel is set, keeps the verdicts at that level ("" for none).
	Level   string
	ByLevel bool
	// Owner, when set, keeps the verdicts of that owner (compared in lower case).
	Owner string
	// After starts the page after this entity key.
	After string
	// Limit caps the page; zero or less means no limit.
	Limit int
}

// TallyRow is how many verdicts of one owner stand at one level.
type TallyRow struct {
	Owner string
	Level string
	Count int
}
