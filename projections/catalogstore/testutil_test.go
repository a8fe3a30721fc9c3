package catalogstore_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
)

// componentBody is a realistic component: tags, labels, annotations, links and
// relations to a group, a system, APIs and other components.
func componentBody(i, groups int) map[string]any {
	return map[string]any{
		"apiVersion": "backstage.io/v1alpha1",
		"kind":       "Component",
		"metadata": map[string]any{
			"name":        fmt.Sprintf("service-%d", i),
			"description": fmt.Sprintf("Service number %d of the synthetic catalog.", i),
			"tags":        []any{"go", fmt.Sprintf("tier-%d", i%3), "backend"},
			"labels":      map[string]any{"tier": fmt.Sprintf("t%d", i%3), "language": "go"},
			"annotations": map[string]any{
				"github.com/project-slug":                 fmt.Sprintf("org/service-%d", i),
				"backstage.io/techdocs-ref":               "dir:.",
				catalog.AnnotationManagedByLocation:       fmt.Sprintf("file:/catalog/file-%d.yaml", i/100),
				catalog.AnnotationManagedByOriginLocation: "file:/catalog/all.yaml",
			},
			"links": []any{map[string]any{"url": fmt.Sprintf("https://dash.example/%d", i), "title": "Dashboard"}},
		},
		"spec": map[string]any{
			"type":         []string{"service", "website", "library"}[i%3],
			"lifecycle":    []string{"production", "experimental", "deprecated"}[i%3],
			"owner":        fmt.Sprintf("team-%d", i%groups),
			"system":       fmt.Sprintf("system-%d", i%50),
			"providesApis": []any{fmt.Sprintf("api-%d", i)},
			"consumesApis": []any{fmt.Sprintf("api-%d", (i+1)%1000), fmt.Sprintf("api-%d", (i+7)%1000)},
			"dependsOn":    []any{fmt.Sprintf("component:service-%d", (i+3)%1000)},
		},
	}
}

// upserts makes n upsert events with positions from start+1.
func upserts(t testing.TB, start int64, n int) []event.Envelope {
	t.Helper()
	out := make([]event.Envelope, 0, n)
	for i := 0; i < n; i++ {
		e, err := catalog.NewEntity(componentBody(i, 40))
		if err != nil {
			t.Fatal(err)
		}
		body := e.JSON()
		ev, err := event.New(event.TypeEntityUpserted, e.Ref().Key(), event.EntityUpserted{
			Ref: e.Ref().String(), UID: fmt.Sprintf("uid-%d", i), Hash: catalog.HashJSON(body), Entity: json.RawMessage(body),
			LocationID: "L1", ManagedBy: "file:/catalog/all.yaml", OriginLocation: "file:/catalog/all.yaml",
		}, event.Meta{Actor: "location:L1"})
		if err != nil {
			t.Fatal(err)
		}
		ev.Position = start + int64(i) + 1
		out = append(out, ev)
	}
	return out
}
