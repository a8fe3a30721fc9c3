package histtest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore"
)

// Epoch is the time of the first event Generate and the suite's cases make.
var Epoch = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)

// Upsert returns an upsert event of a Component named name with the given
// owner and uid, in partition 0 at pos, observed at Epoch plus pos seconds.
func Upsert(tb testing.TB, pos int64, name, owner, uid string, commit *event.Commit) event.Envelope {
	tb.Helper()
	ent, err := catalog.NewEntity(map[string]any{
		"apiVersion": "backstage.io/v1alpha1",
		"kind":       "Component",
		"metadata":   map[string]any{"name": name, "tags": []any{"go"}},
		"spec":       map[string]any{"type": "service", "lifecycle": "production", "owner": owner},
	})
	if err != nil {
		tb.Fatal(err)
	}
	body := ent.JSON()
	meta := event.Meta{Actor: "location:L1", CorrelationID: fmt.Sprintf("c-%d", pos), Time: Epoch.Add(time.Duration(pos) * time.Second)}
	if commit != nil {
		meta.Commit = commit.SHA
	}
	ev, err := event.New(event.TypeEntityUpserted, ent.Ref().Key(), event.EntityUpserted{
		Ref: ent.Ref().String(), UID: uid, Hash: catalog.HashJSON(body), Entity: json.RawMessage(body),
		LocationID: "L1", ManagedBy: "file:/catalog/" + name + ".yaml", OriginLocation: "file:/catalog/all.yaml", Commit: commit,
	}, meta)
	if err != nil {
		tb.Fatal(err)
	}
	ev.Position = pos
	return ev
}

// Remove returns a removal of the Component named name with the given uid, in
// partition 0 at pos, observed at Epoch plus pos seconds.
func Remove(tb testing.TB, pos int64, name, uid string) event.Envelope {
	tb.Helper()
	ref := "component:default/" + name
	ev, err := event.New(event.TypeEntityRemoved, strings.ToLower(ref), event.EntityRemoved{Ref: ref, UID: uid, LocationID: "L1", Reason: "deleted through the API"},
		event.Meta{Actor: "user:default/ada", Time: Epoch.Add(time.Duration(pos) * time.Second)})
	if err != nil {
		tb.Fatal(err)
	}
	ev.Position = pos
	return ev
}

// Location returns a registration (or, with removed, a removal) of location id
// reading file target, in partition 0 at pos, with the subject Backlot gives it.
func Location(tb testing.TB, pos int64, id, target string, removed bool) event.Envelope {
	tb.Helper()
	ref := catalog.GeneratedLocationRef("file", target)
	var ev event.Envelope
	var err error
	meta := event.Meta{Actor: "user:default/ada", Time: Epoch.Add(time.Duration(pos) * time.Second)}
	if removed {
		ev, err = event.New(event.TypeLocationRemoved, ref.Key(), event.LocationRemoved{ID: id, Type: "file", Target: target}, meta)
	} else {
		ev, err = event.New(event.TypeLocationRegistered, ref.Key(), event.LocationRegistered{ID: id, Type: "file", Target: target, EntityRef: ref.String()}, meta)
	}
	if err != nil {
		tb.Fatal(err)
	}
	ev.Position = pos
	return ev
}

// Generate returns n events of a random catalog life in partition 0 at
// positions 1 to n: components (some names in two spellings) created, edited,
// upserted again unchanged, removed (sometimes with a stale uid), re-created
// with new uids; locations registered and removed; processing errors. Times
// never go back and often repeat. The same seed gives the same events, ids
// included.
func Generate(tb testing.TB, seed uint64, n int) []event.Envelope {
	tb.Helper()
	r := rand.New(rand.NewPCG(seed, 0x6b61))
	names := []string{"checkout", "cart", "Cart", "search", "payments", "ledger", "auth", "mail"}
	targets := []string{"/catalog/a.yaml", "/catalog/b.yaml", "/catalog/c.yaml"}
	type live struct{ uid, owner string }
	state := map[string]live{} // lower-case name -> live entity
	uids := 0
	at := Epoch
	out := make([]event.Envelope, 0, n)
	for pos := int64(1); len(out) < n; pos++ {
		name := names[r.IntN(len(names))]
		lname := strings.ToLower(name)
		cur, exists := state[lname]
		var ev event.Envelope
		switch k := r.IntN(20); {
		case k < 8 || !exists && k < 14:
			uid := cur.uid
			if !exists {
				uids++
				uid = fmt.Sprintf("uid-%d", uids)
			}
			owner := fmt.Sprintf("team-%d", r.IntN(4))
			var commit *event.Commit
			if r.IntN(3) == 0 {
				commit = &event.Commit{SHA: fmt.Sprintf("%040x", r.Uint64()), Author: "Ada", Email: "ada@example.com", Time: at.Format(time.RFC3339)}
			}
			ev = Upsert(tb, pos, name, owner, uid, commit)
			state[lname] = live{uid, owner}
		case k < 10 && exists:
			ev = Upsert(tb, pos, name, cur.owner, cur.uid, nil) // the same body again
		case k < 14:
			uid := cur.uid
			if r.IntN(4) == 0 {
				uid = "uid-stale"
			} else {
				delete(state, lname)
			}
			ev = Remove(tb, pos, name, uid)
		case k < 17:
			i := r.IntN(len(targets))
			ev = Location(tb, pos, fmt.Sprintf("L-%d", i), targets[i], r.IntN(2) == 0)
		default:
			var err error
			ev, err = event.New(event.TypeProcessingErrorCleared, "location:default/x", event.ProcessingErrorCleared{LocationID: "L1"}, event.Meta{})
			if err != nil {
				tb.Fatal(err)
			}
			ev.Position = pos
		}
		if r.IntN(3) > 0 {
			at = at.Add(time.Duration(1+r.IntN(5000)) * time.Millisecond)
		}
		ev.Time = at
		ev.ID = fmt.Sprintf("ev-%d-%d", seed, pos)
		out = append(out, ev)
	}
	return out
}

// Entity is an entity as Model holds it.
type Entity struct {
	Key, Ref, UID, Hash string
	Body                string
}

// Model folds events into a plain map from key to entity, with the catalog
// read model's rules and no notion of versions: the reference the suite
// compares Current with.
func Model(tb testing.TB, evs []event.Envelope) map[string]Entity {
	tb.Helper()
	ents := map[string]Entity{}
	locs := map[string]string{}
	for i := range evs {
		ev := &evs[i]
		switch event.Type(ev.Type) {
		case event.TypeEntityUpserted:
			var d event.EntityUpserted
			if err := ev.Decode(&d); err != nil {
				tb.Fatal(err)
			}
			var body map[string]any
			if err := json.Unmarshal(d.Entity, &body); err != nil {
				tb.Fatal(err)
			}
			ent, err := catalog.LoadEntity(body)
			if err != nil {
				tb.Fatal(err)
			}
			ents[ent.Ref().Key()] = Entity{Key: ent.Ref().Key(), Ref: ent.Ref().String(), UID: d.UID, Hash: d.Hash, Body: string(d.Entity)}
		case event.TypeEntityRemoved:
			var d event.EntityRemoved
			if err := ev.Decode(&d); err != nil {
				tb.Fatal(err)
			}
			key := strings.ToLower(d.Ref)
			if e, ok := ents[key]; ok && (d.UID == "" || e.UID == d.UID) {
				delete(ents, key)
			}
		case event.TypeLocationRegistered:
			var d event.LocationRegistered
			if err := ev.Decode(&d); err != nil {
				tb.Fatal(err)
			}
			if _, ok := locs[d.ID]; ok {
				continue
			}
			ent, _, err := catalogstore.LocationEntity(d)
			if err != nil {
				tb.Fatal(err)
			}
			locs[d.ID] = ent.Ref().Key()
			ents[ent.Ref().Key()] = Entity{Key: ent.Ref().Key(), Ref: ent.Ref().String(), UID: d.ID, Hash: ent.Hash(), Body: string(ent.JSON())}
		case event.TypeLocationRemoved:
			var d event.LocationRemoved
			if err := ev.Decode(&d); err != nil {
				tb.Fatal(err)
			}
			key, ok := locs[d.ID]
			if !ok {
				continue
			}
			delete(locs, d.ID)
			if e, ok := ents[key]; ok && e.UID == d.ID {
				delete(ents, key)
			}
		}
	}
	return ents
}

// sortedEntities lists a model's entities in key order.
func sortedEntities(m map[string]Entity) []Entity {
	out := make([]Entity, 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Entity) int { return strings.Compare(a.Key, b.Key) })
	return out
}
