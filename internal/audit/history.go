package audit

import (
	"context"
	"encoding/json"
	"strconv"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/history"
)

// BadgeChanges answers the changes of one entity's badges, in log order
// (badges.Reader does).
type BadgeChanges interface {
	EntityChanges(ctx context.Context, key string) ([]badges.Change, error)
}

// Service answers the auditors' questions: the raw events of the log and
// their verification (Log), an entity's versions with what each changed, and
// what changed between two instants (History). It is safe for concurrent use
// as far as its log and readers are.
type Service struct {
	// Log is the event log; required by Events and Verify.
	Log Log
	// History is the history read model; required by EntityHistory and Diff.
	History history.Reader
	// Badges, when set, adds the entity's badge changes to the first page of
	// its history.
	Badges BadgeChanges
}

// VersionChanges is one version of an entity with the field-level changes
// since the version before.
type VersionChanges struct {
	history.Version
	Changes []catalog.FieldChange `json:"changes"`
}

// EntityHistory is a page of an entity's versions, oldest first.
type EntityHistory struct {
	Items []VersionChanges `json:"items"`
	// NextCursor is the version number the next page continues after; ""
	// on the last page.
	NextCursor string `json:"nextCursor,omitempty"`
	// BadgeChanges are the changes of the entity's badges, in log order
	// (first page only).
	BadgeChanges []badges.Change `json:"badgeChanges,omitempty"`
}

// EntityHistory returns up to limit versions of the entity with key (its
// lower-case ref) after version number after, oldest first, each with its
// field-level diff to the version before (the first version's to nothing).
// An entity the history never held is a fault.NotFound error naming it.
// Changes is never nil.
func (s Service) EntityHistory(ctx context.Context, key string, after, limit int) (EntityHistory, error) {
	vs, err := s.History.Versions(ctx, key, after, limit+1)
	if err != nil {
		return EntityHistory{}, err
	}
	if len(vs) == 0 && after == 0 {
		return EntityHistory{}, fault.New(fault.NotFound, key, "No history of %s", key)
	}
	more := len(vs) > limit
	if more {
		vs = vs[:limit]
	}
	var prev map[string]any
	if len(vs) > 0 && vs[0].Number > 1 {
		p, err := s.History.Version(ctx, key, vs[0].Number-1)
		if err != nil {
			return EntityHistory{}, err
		}
		prev = bodyOf(p)
	}
	out := EntityHistory{Items: make([]VersionChanges, 0, len(vs))}
	if s.Badges != nil && after == 0 {
		if out.BadgeChanges, err = s.Badges.EntityChanges(ctx, key); err != nil {
			return EntityHistory{}, err
		}
	}
	for _, v := range vs {
		cur := bodyOf(v)
		out.Items = append(out.Items, VersionChanges{Version: v, Changes: nonNil(catalog.Diff(prev, cur))})
		prev = cur
	}
	if more {
		out.NextCursor = strconv.Itoa(vs[len(vs)-1].Number)
	}
	return out, nil
}

// DiffEntry is one entity that differs between two instants.
type DiffEntry struct {
	Ref     string                `json:"ref"`
	Changes []catalog.FieldChange `json:"changes,omitempty"`
	From    *VersionRef           `json:"from,omitempty"`
	To      *VersionRef           `json:"to,omitempty"`
}

// VersionRef names one version of an entity: its number, the event that
// made it and who sent that event.
type VersionRef struct {
	Version int    `json:"version"`
	EventID string `json:"eventId"`
	Actor   string `json:"actor,omitempty"`
}

// Diff is what changed in the catalog between two instants.
type Diff struct {
	Added   []DiffEntry `json:"added"`
	Removed []DiffEntry `json:"removed"`
	Changed []DiffEntry `json:"changed"`
}

// Diff returns the entities added, removed and changed between the instants
// from and to, in key order, with field-level changes: an added entity's
// whole body, none for a removed one, and for a changed one the changes
// between its two versions (an entity whose version changed but whose body
// did not is left out). The slices are never nil.
func (s Service) Diff(ctx context.Context, from, to history.Instant) (Diff, error) {
	out := Diff{Added: []DiffEntry{}, Removed: []DiffEntry{}, Changed: []DiffEntry{}}
	err := mergeCurrent(ctx, s.History, from, to, func(a, b *history.Version) {
		switch {
		case a == nil:
			out.Added = append(out.Added, DiffEntry{Ref: b.Ref, To: refOfVersion(b), Changes: catalog.Diff(nil, bodyOf(*b))})
		case b == nil:
			out.Removed = append(out.Removed, DiffEntry{Ref: a.Ref, From: refOfVersion(a)})
		case a.Number != b.Number:
			if ch := catalog.Diff(bodyOf(*a), bodyOf(*b)); len(ch) > 0 {
				out.Changed = append(out.Changed, DiffEntry{Ref: b.Ref, From: refOfVersion(a), To: refOfVersion(b), Changes: ch})
			}
		}
	})
	if err != nil {
		return Diff{}, err
	}
	return out, nil
}

func refOfVersion(v *history.Version) *VersionRef {
	return &VersionRef{Version: v.Number, EventID: v.EventID, Actor: v.Actor}
}

// bodyOf decodes a version's entity body; nil for a removal or a body that
// is not a JSON object.
func bodyOf(v history.Version) map[string]any {
	if v.Removed || len(v.Body) == 0 {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(v.Body, &m) != nil {
		return nil
	}
	return m
}

func nonNil(c []catalog.FieldChange) []catalog.FieldChange {
	if c == nil {
		return []catalog.FieldChange{}
	}
	return c
}

// mergeCurrent walks the entities current at two instants in key order and
// calls pair with each key's version at each (nil where it did not exist).
func mergeCurrent(ctx context.Context, h history.Reader, from, to history.Instant, pair func(a, b *history.Version)) error {
	const page = 1000
	type cursor struct {
		at    history.Instant
		buf   []history.Version
		after string
		done  bool
	}
	next := func(c *cursor) (*history.Version, error) {
		if len(c.buf) == 0 && !c.done {
			vs, err := h.Current(ctx, c.at, c.after, page)
			if err != nil {
				return nil, err
			}
			c.buf = vs
			c.done = len(vs) < page
			if len(vs) > 0 {
				c.after = vs[len(vs)-1].Key
			}
		}
		if len(c.buf) == 0 {
			return nil, nil
		}
		v := c.buf[0]
		return &v, nil
	}
	a, b := &cursor{at: from}, &cursor{at: to}
	for {
		va, err := next(a)
		if err != nil {
			return err
		}
		vb, err := next(b)
		if err != nil {
			return err
		}
		switch {
		case va == nil && vb == nil:
			return nil
		case vb == nil || (va != nil && va.Key < vb.Key):
			pair(va, nil)
			a.buf = a.buf[1:]
		case va == nil || vb.Key < va.Key:
			pair(nil, vb)
			b.buf = b.buf[1:]
		default:
			pair(va, vb)
			a.buf, b.buf = a.buf[1:], b.buf[1:]
		}
	}
}
