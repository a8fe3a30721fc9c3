package eventgen

import (
	"fmt"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
)

// Upserts makes n upserts of components named tag-0 … tag-(n-1), owned by seven
// teams, each depending on the next, with version in a label so that calling it
// again with another version edits every entity.
func Upserts(tag string, n, version int) ([]event.Envelope, error) {
	out := make([]event.Envelope, 0, n)
	for i := range n {
		e, err := catalog.NewEntity(map[string]any{
			"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
			"metadata": map[string]any{"name": fmt.Sprintf("%s-%d", tag, i), "tags": []any{"load"},
				"labels": map[string]any{"version": fmt.Sprint(version)}},
			"spec": map[string]any{"type": "service", "lifecycle": "production", "owner": fmt.Sprintf("team-%d", (i+version)%7),
				"dependsOn": []any{fmt.Sprintf("component:%s-%d", tag, (i+1)%n)}},
		})
		if err != nil {
			return nil, err
		}
		body := e.JSON()
		ev, err := event.New(event.TypeEntityUpserted, e.Ref().Key(), event.EntityUpserted{
			Ref: e.Ref().String(), UID: fmt.Sprintf("uid-%s-%d", tag, i), Hash: catalog.HashJSON(body), Entity: body, LocationID: "load",
		}, event.Meta{Actor: "user:default/load"})
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}

// Removals removes the components tag-i for every i in idx.
func Removals(tag string, idx ...int) ([]event.Envelope, error) {
	out := make([]event.Envelope, 0, len(idx))
	for _, i := range idx {
		ref := fmt.Sprintf("component:default/%s-%d", tag, i)
		ev, err := event.New(event.TypeEntityRemoved, ref, event.EntityRemoved{Ref: ref, UID: fmt.Sprintf("uid-%s-%d", tag, i), LocationID: "load", Reason: "test"},
			event.Meta{Actor: "user:default/load"})
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}
