package gen

import (
	"fmt"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
)

// eventTeams is the number of groups that own the components of
// ComponentUpserts: groups 0 to eventTeams-1 of the catalog's group tree.
const eventTeams = 7

// eventLocation and eventActor are the location id and the actor of the events
// of ComponentUpserts and ComponentRemovals.
const (
	eventLocation = "bench-catalog"
	eventActor    = "user:default/bench"
)

// ComponentUpserts returns the backlot.entity.upserted.v1 events of components
// 0 to n-1 of the synthetic catalog of seed, for tests and benchmarks that
// write to the event log without ingesting files. Component i has the name and
// spec.type Generate gives component i of a catalog with that seed; it is owned
// by group (i+version)%7 of the catalog's group tree, depends on component
// (i+1)%n and carries version in its labels, so that calling ComponentUpserts
// again with another version edits every component (its body hash changes).
// The uid of component i is the same in every version.
func ComponentUpserts(seed int64, n, version int) ([]event.Envelope, error) {
	names := namer{seed: seed}
	out := make([]event.Envelope, 0, n)
	for i := range n {
		name := names.name(kindComponent, i)
		e, err := catalog.NewEntity(map[string]any{
			"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
			"metadata": map[string]any{"name": name, "tags": []any{"load"},
				"labels": map[string]any{"version": fmt.Sprint(version)}},
			"spec": map[string]any{"type": names.componentType(i), "lifecycle": "production",
				"owner":     "group:" + names.name(kindGroup, (i+version)%eventTeams),
				"dependsOn": []any{"component:" + names.name(kindComponent, (i+1)%n)}},
		})
		if err != nil {
			return nil, fmt.Errorf("gen: component %d (%s): %w", i, name, err)
		}
		body := e.JSON()
		ev, err := event.New(event.TypeEntityUpserted, e.Ref().Key(), event.EntityUpserted{
			Ref: e.Ref().String(), UID: componentUID(seed, i), Hash: catalog.HashJSON(body), Entity: body, LocationID: eventLocation,
		}, event.Meta{Actor: eventActor})
		if err != nil {
			return nil, fmt.Errorf("gen: component %d (%s): %w", i, name, err)
		}
		out = append(out, ev)
	}
	return out, nil
}

// ComponentRemovals returns the backlot.entity.removed.v1 events of the
// components of ComponentUpserts(seed, …) at the indexes idx, in that order.
func ComponentRemovals(seed int64, idx ...int) ([]event.Envelope, error) {
	names := namer{seed: seed}
	out := make([]event.Envelope, 0, len(idx))
	for _, i := range idx {
		if i < 0 {
			return nil, fmt.Errorf("gen: component index %d is negative", i)
		}
		ref := "component:default/" + names.name(kindComponent, i)
		ev, err := event.New(event.TypeEntityRemoved, ref, event.EntityRemoved{Ref: ref, UID: componentUID(seed, i), LocationID: eventLocation, Reason: "removed by the generator"},
			event.Meta{Actor: eventActor})
		if err != nil {
			return nil, fmt.Errorf("gen: removal of component %d: %w", i, err)
		}
		out = append(out, ev)
	}
	return out, nil
}

// componentUID is the uid of component i of the catalog of seed.
func componentUID(seed int64, i int) string { return fmt.Sprintf("bench-%d-component-%d", seed, i) }
