package golden

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/history"
)

// The file names of a release folder.
const (
	// LogFile is the golden event log (JSON lines of Line).
	LogFile = "events.jsonl"
	// CatalogFile is the canonical dump of the catalog read model.
	CatalogFile = "catalog.json"
	// HistoryFile is the canonical dump of the history read model.
	HistoryFile = "history.json"
	// BadgesFile is the canonical dump of the badge read model.
	BadgesFile = "badges.json"
)

// Readers are the three read models a golden log is compared on, read only
// through their ports, so every adapter dumps the same way.
type Readers struct {
	Catalog catalogstore.Reader
	History history.Reader
	Badges  badges.Reader
}

// Dumps are the canonical dumps of the three read models: indented JSON with
// sorted keys, the same bytes for the same content on every adapter.
type Dumps struct {
	Catalog []byte
	History []byte
	Badges  []byte
}

// Files returns the dumps by file name.
func (d Dumps) Files() map[string][]byte {
	return map[string][]byte{CatalogFile: d.Catalog, HistoryFile: d.History, BadgesFile: d.Badges}
}

// Dump reads every read model through its port. log is the log the read
// models folded: the badge read model is asked about every entity, policy
// and fact source the log names.
func Dump(ctx context.Context, r Readers, log []event.Envelope) (Dumps, error) {
	var d Dumps
	var err error
	if d.Catalog, err = dumpCatalog(ctx, r.Catalog); err != nil {
		return d, fmt.Errorf("dump the catalog read model: %w", err)
	}
	if d.History, err = dumpHistory(ctx, r.History); err != nil {
		return d, fmt.Errorf("dump the history read model: %w", err)
	}
	if d.Badges, err = dumpBadges(ctx, r.Badges, log); err != nil {
		return d, fmt.Errorf("dump the badge read model: %w", err)
	}
	return d, nil
}

// catalogEntity is one entity of the catalog dump: the entity as the API
// renders it, and where the read model keeps it.
type catalogEntity struct {
	Key        string          `json:"key"`
	Ref        string          `json:"ref"`
	UID        string          `json:"uid"`
	LocationID string          `json:"locationId"`
	Entity     json.RawMessage `json:"entity"`
}

// catalogLocation is one registered location of the catalog dump, with its
// processing errors and the entities it owns.
type catalogLocation struct {
	catalogstore.Location
	EntityRef string                  `json:"entityRef"`
	Errors    []event.ProcessingError `json:"errors"`
	Owned     []ownedEntity           `json:"owned"`
}

// ownedEntity is what the refresh decision knows of an entity a location owns
// (refresh.Known), named in the dump's own words.
type ownedEntity struct {
	Key        string `json:"key"`
	UID        string `json:"uid"`
	Hash       string `json:"hash"`
	LocationID string `json:"locationId"`
	ManagedBy  string `json:"managedBy"`
}

// tallyRow is one row of a policy's tally (badges.TallyRow).
type tallyRow struct {
	Owner string `json:"owner"`
	Level string `json:"level"`
	Count int    `json:"count"`
}

func dumpCatalog(ctx context.Context, r catalogstore.Reader) ([]byte, error) {
	pos, err := r.Positions(ctx)
	if err != nil {
		return nil, err
	}
	page, err := r.Query(ctx, catalogstore.PageQuery{CountTotal: true})
	if err != nil {
		return nil, err
	}
	if page.TotalItems != len(page.Items) {
		return nil, fmt.Errorf("query answered %d entities of %d", len(page.Items), page.TotalItems)
	}
	ents := make([]catalogEntity, 0, len(page.Items))
	for _, v := range page.Items {
		b, err := v.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("entity %s: %w", v.Key, err)
		}
		ents = append(ents, catalogEntity{Key: v.Key, Ref: v.Ref, UID: v.UID, LocationID: v.LocationID, Entity: b})
	}
	slices.SortFunc(ents, func(a, b catalogEntity) int { return cmpString(a.Key, b.Key) })
	locs, err := r.Locations(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(locs, func(a, b catalogstore.Location) int { return cmpString(a.ID, b.ID) })
	out := make([]catalogLocation, 0, len(locs))
	for _, l := range locs {
		errs, err := r.LocationErrors(ctx, l.ID)
		if err != nil {
			return nil, fmt.Errorf("location %s: errors: %w", l.ID, err)
		}
		snap, err := r.Snapshot(ctx, l.ID)
		if err != nil {
			return nil, fmt.Errorf("location %s: snapshot: %w", l.ID, err)
		}
		owned := []ownedEntity{}
		for k := range snap.Owned(l.ID, nil) {
			owned = append(owned, ownedEntity{Key: k.Key, UID: k.UID, Hash: k.Hash, LocationID: k.LocationID, ManagedBy: k.ManagedBy})
		}
		if e, ok := snap.(interface{ Err() error }); ok && e.Err() != nil {
			return nil, fmt.Errorf("location %s: owned entities: %w", l.ID, e.Err())
		}
		slices.SortFunc(owned, func(a, b ownedEntity) int { return cmpString(a.Key, b.Key) })
		out = append(out, catalogLocation{Location: l, EntityRef: l.EntityRef, Errors: orEmpty(errs), Owned: owned})
	}
	return canonical(struct {
		Positions event.Positions   `json:"positions"`
		Entities  []catalogEntity   `json:"entities"`
		Locations []catalogLocation `json:"locations"`
	}{pos, ents, out})
}

func dumpHistory(ctx context.Context, r history.Reader) ([]byte, error) {
	pos, err := r.Positions(ctx)
	if err != nil {
		return nil, err
	}
	versions, err := r.Changes(ctx, history.Pos{}, 0)
	if err != nil {
		return nil, err
	}
	digests, err := r.Digests(ctx, history.Pos{}, 0)
	if err != nil {
		return nil, err
	}
	return canonical(struct {
		Positions event.Positions       `json:"positions"`
		Versions  []history.Version     `json:"versions"`
		Digests   []history.EventDigest `json:"digests"`
	}{pos, orEmpty(versions), orEmpty(digests)})
}

// badgeEntity is what the badge read model holds about one entity.
type badgeEntity struct {
	Facts   []badges.FactSet `json:"facts"`
	Badges  []badges.Badge   `json:"badges"`
	Changes []badges.Change  `json:"changes"`
}

// badgePolicy is a policy's standing: its tally and every current verdict.
type badgePolicy struct {
	Tally   []tallyRow     `json:"tally"`
	Results []badges.Badge `json:"results"`
}

func dumpBadges(ctx context.Context, r badges.Reader, log []event.Envelope) ([]byte, error) {
	pos, err := r.Positions(ctx)
	if err != nil {
		return nil, err
	}
	keys, sources, policies := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i := range log {
		ev := &log[i]
		switch event.Type(ev.Type).Latest() {
		case event.TypeFactSourceDeclared:
			var d event.FactSourceDeclared
			if err := ev.Decode(&d); err != nil {
				return nil, err
			}
			sources[d.Source] = true
		case event.TypeFactsReported:
			var d event.FactsReported
			if err := ev.Decode(&d); err != nil {
				return nil, err
			}
			keys[d.Entity], sources[d.Source] = true, true
		case event.TypeBadgeAwarded, event.TypeBadgeRevoked, event.TypeCheckChanged:
			var d event.BadgeChanged
			if err := ev.Decode(&d); err != nil {
				return nil, err
			}
			keys[d.Entity], policies[d.Policy] = true, true
		case event.TypeEntityUpserted, event.TypeEntityRemoved:
			keys[ev.Subject] = true
		}
	}
	ents := map[string]badgeEntity{}
	for _, k := range sortedKeys(keys) {
		var e badgeEntity
		if e.Facts, err = r.Facts(ctx, k); err != nil {
			return nil, fmt.Errorf("facts of %s: %w", k, err)
		}
		if e.Badges, err = r.Badges(ctx, k); err != nil {
			return nil, fmt.Errorf("badges of %s: %w", k, err)
		}
		if e.Changes, err = r.EntityChanges(ctx, k); err != nil {
			return nil, fmt.Errorf("badge changes of %s: %w", k, err)
		}
		if len(e.Facts)+len(e.Badges)+len(e.Changes) > 0 {
			ents[k] = badgeEntity{orEmpty(e.Facts), orEmpty(e.Badges), orEmpty(e.Changes)}
		}
	}
	srcs := map[string]json.RawMessage{}
	for _, s := range sortedKeys(sources) {
		schema, err := r.FactSource(ctx, s)
		if errors.Is(err, badges.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("fact source %s: %w", s, err)
		}
		srcs[s] = schema
	}
	pols := map[string]badgePolicy{}
	for _, p := range sortedKeys(policies) {
		tally, err := r.Tally(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("tally of %s: %w", p, err)
		}
		rows := []tallyRow{}
		for _, r := range tally {
			rows = append(rows, tallyRow{Owner: r.Owner, Level: r.Level, Count: r.Count})
		}
		slices.SortFunc(rows, func(a, b tallyRow) int {
			if c := cmpString(a.Owner, b.Owner); c != 0 {
				return c
			}
			return cmpString(a.Level, b.Level)
		})
		results, err := r.Results(ctx, badges.ResultQuery{Policy: p})
		if err != nil {
			return nil, fmt.Errorf("results of %s: %w", p, err)
		}
		pols[p] = badgePolicy{rows, orEmpty(results)}
	}
	var all []badges.Change
	if err := r.Changes(ctx, "", func(c badges.Change) bool { all = append(all, c); return true }); err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	return canonical(struct {
		Positions   event.Positions            `json:"positions"`
		Entities    map[string]badgeEntity     `json:"entities"`
		FactSources map[string]json.RawMessage `json:"factSources"`
		Policies    map[string]badgePolicy     `json:"policies"`
		Changes     []badges.Change            `json:"changes"`
	}{pos, ents, srcs, pols, orEmpty(all)})
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// orEmpty turns a nil slice into an empty one, so a dump says [] for both.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
