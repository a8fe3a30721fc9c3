package collect_test

import (
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"backlot.dev/backlot/internal/collect"
)

func ExampleRepoFacts() {
	facts := collect.RepoFacts([]string{
		".github/CODEOWNERS",
		".github/workflows/ci.yml",
		"README.md",
		"catalog-info.yaml",
		"cmd/cart/main.go",
		"cmd/cart/main_test.go",
	})
	out, err := json.Marshal(facts)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(out))
	// Output:
	// {"ci":true,"codeowners":true,"docs":false,"files":6,"readme":true,"tests":true}
}

func ExampleDirFiles() {
	dir, err := os.MkdirTemp("", "collect-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for _, f := range []string{"README.md", "docs/index.md", ".git/HEAD", "node_modules/x/index.js", "src/app.spec.ts"} {
		full := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(full, nil, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	files, err := collect.DirFiles(dir, 1000)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(files)
	fmt.Println(collect.RepoFacts(files))
	// Output:
	// [README.md docs/index.md src/app.spec.ts]
	// map[ci:false codeowners:false docs:true files:3 readme:true tests:true]
}
