package gen_test

import (
	"fmt"
	"os"
	"path/filepath"

	"backlot.dev/backlot/internal/bench/gen"
)

func ExampleGenerate() {
	dir, err := os.MkdirTemp("", "catalog")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	s, err := gen.Generate(dir, gen.Config{Entities: 1000, Seed: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Entities, "entities in", s.Files, "files, root", filepath.Base(s.RootFile))
	for _, kind := range []string{"Location", "Group", "User", "Domain", "System", "Component", "API", "Resource"} {
		fmt.Println(kind, s.ByKind[kind])
	}
	// Output:
	// 1000 entities in 11 files, root all.yaml
	// Location 1
	// Group 20
	// User 80
	// Domain 2
	// System 20
	// Component 600
	// API 200
	// Resource 77
}

func ExampleEdit() {
	dir, err := os.MkdirTemp("", "catalog")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	if _, err := gen.Generate(dir, gen.Config{Entities: 1000, Seed: 1}); err != nil {
		panic(err)
	}
	refs, err := gen.Edit(dir, 1, 3)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(refs), "components changed")
	// Output:
	// 3 components changed
}
