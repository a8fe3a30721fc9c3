package catalog_test

import (
	"fmt"

	"backlot.dev/backlot/domain/catalog"
)

// A catalog accepts an AiResource once its extra kinds name it, as Backstage's
// catalog does once the plugin that registers the kind is installed.
func ExampleNewKinds() {
	body := map[string]any{
		"apiVersion": "backstage.io/v1alpha1",
		"kind":       "AiResource",
		"metadata":   map[string]any{"name": "routing-conventions"},
		"spec":       map[string]any{"type": "skill", "lifecycle": "production", "owner": "routing"},
	}
	_, err := catalog.NewEntity(body)
	fmt.Println("built-in kinds:", err != nil)

	kinds, err := catalog.NewKinds([]string{"AiResource"})
	if err != nil {
		panic(err)
	}
	e, err := kinds.NewEntity(body)
	if err != nil {
		panic(err)
	}
	fmt.Println("with AiResource:", e.Ref())
	// Output:
	// built-in kinds: true
	// with AiResource: airesource:default/routing-conventions
}
