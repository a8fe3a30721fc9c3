package collect

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// The keys of the map RepoFacts returns, as a policy reads them under facts.repo.
const (
	// FactReadme is true when the root holds a README.
	FactReadme = "readme"
	// FactCodeowners is true when a CODEOWNERS file is where GitHub or GitLab look for it.
	FactCodeowners = "codeowners"
	// FactTests is true when any file looks like a test or lives in a test folder.
	FactTests = "tests"
	// FactCI is true when the root holds the configuration of a known CI system.
	FactCI = "ci"
	// FactDocs is true when the root holds mkdocs.yml or a docs folder with a file.
	FactDocs = "docs"
	// FactFiles is the number of paths listed, an int64.
	FactFiles = "files"
)

// RepoFacts returns the facts of a repository whose files are paths: slash-separated
// paths relative to the repository root (or to a folder of it, whose listing is then
// judged as if the folder were the root). A leading "./" or "/" is ignored and paths
// are cleaned; paths that leave the root ("../x") count only in files. The result
// holds every key, always:
//
//	readme      bool   README, README.md, .markdown, .rst, .txt, .adoc, .org … at the
//	                   root, in any letter case
//	codeowners  bool   CODEOWNERS at the root, in .github/, .gitlab/ or docs/
//	tests       bool   a Go *_test.go; a *.test.js|jsx|ts|tsx or *.spec.js|jsx|ts|tsx;
//	                   a Python test_*.py or *_test.py; Java or Kotlin under src/test/;
//	                   or any file inside a folder, at any depth, named test, tests,
//	                   __tests__ or spec
//	ci          bool   .github/workflows/*.yml|yaml, .gitlab-ci.yml, Jenkinsfile,
//	                   .circleci/config.yml or azure-pipelines.yml|yaml
//	docs        bool   mkdocs.yml|yaml or a file under docs/ at the root
//	files       int64  len(paths)
//
// Names are matched exactly except README's. The values are plain JSON values, so
// json.Marshal of the result depends only on the set of paths, not on their order.
func RepoFacts(paths []string) map[string]any {
	var readme, codeowners, tests, ci, docs bool
	for _, p := range paths {
		p, ok := cleanRel(p)
		if !ok {
			continue
		}
		readme = readme || isReadme(p)
		codeowners = codeowners || codeownersPaths[p]
		tests = tests || isTest(p)
		ci = ci || isCI(p)
		docs = docs || docsFiles[p] || strings.HasPrefix(p, "docs/")
	}
	return map[string]any{
		FactReadme:     readme,
		FactCodeowners: codeowners,
		FactTests:      tests,
		FactCI:         ci,
		FactDocs:       docs,
		FactFiles:      int64(len(paths)),
	}
}

// cleanRel returns p cleaned and relative to the root, and false when it names the
// root itself or leaves it.
func cleanRel(p string) (string, bool) {
	p = strings.TrimLeft(path.Clean(p), "/")
	if p == "" || p == "." || p == ".." || strings.HasPrefix(p, "../") {
		return "", false
	}
	return p, true
}

// readmeExts are the extensions of a README file, lower case; "" is a bare README.
var readmeExts = map[string]bool{
	"": true, ".md": true, ".markdown": true, ".mdown": true, ".rst": true, ".txt": true,
	".adoc": true, ".asciidoc": true, ".org": true, ".rdoc": true, ".textile": true,
}

// isReadme reports whether p is a README file at the root.
func isReadme(p string) bool {
	if strings.Contains(p, "/") {
		return false
	}
	lower := strings.ToLower(p)
	ext, ok := strings.CutPrefix(lower, "readme")
	return ok && readmeExts[ext]
}

// codeownersPaths are where GitHub and GitLab read a CODEOWNERS file.
var codeownersPaths = map[string]bool{
	"CODEOWNERS": true, ".github/CODEOWNERS": true, ".gitlab/CODEOWNERS": true, "docs/CODEOWNERS": true,
}

// docsFiles are the root files that configure a documentation site.
var docsFiles = map[string]bool{"mkdocs.yml": true, "mkdocs.yaml": true}

// testFolders are the folder names whose files are tests, at any depth. A folder
// named test also covers Maven's and Gradle's src/test/.
var testFolders = map[string]bool{"test": true, "tests": true, "__tests__": true, "spec": true}

// jsTestSuffixes are the endings of JavaScript and TypeScript test files.
var jsTestSuffixes = []string{
	".test.js", ".test.jsx", ".test.ts", ".test.tsx",
	".spec.js", ".spec.jsx", ".spec.ts", ".spec.tsx",
}

// isTest reports whether p is a test file or lies in a test folder.
func isTest(p string) bool {
	dir, base := path.Split(p)
	for _, seg := range strings.Split(strings.TrimSuffix(dir, "/"), "/") {
		if testFolders[seg] {
			return true
		}
	}
	if strings.HasSuffix(base, "_test.go") && base != "_test.go" {
		return true
	}
	if stem, ok := strings.CutSuffix(base, ".py"); ok && stem != "" {
		if (strings.HasPrefix(stem, "test_") && stem != "test_") || (strings.HasSuffix(stem, "_test") && stem != "_test") {
			return true
		}
	}
	for _, suffix := range jsTestSuffixes {
		if stem, ok := strings.CutSuffix(base, suffix); ok && stem != "" {
			return true
		}
	}
	return false
}

// ciFiles are the root files of CI systems that need no wildcard.
var ciFiles = map[string]bool{
	".gitlab-ci.yml": true, "Jenkinsfile": true, ".circleci/config.yml": true,
	"azure-pipelines.yml": true, "azure-pipelines.yaml": true,
}

// isCI reports whether p configures a CI system.
func isCI(p string) bool {
	if ciFiles[p] {
		return true
	}
	name, ok := strings.CutPrefix(p, ".github/workflows/")
	if !ok || strings.Contains(name, "/") {
		return false
	}
	stem := strings.TrimSuffix(strings.TrimSuffix(name, ".yml"), ".yaml")
	return stem != name && stem != ""
}

// skippedNames are the names DirFiles leaves out, with all they hold, at any depth.
var skippedNames = map[string]bool{".git": true, "node_modules": true}

// errEnough stops the walk of DirFiles when max paths were found.
var errEnough = errors.New("enough paths")

// DirFiles returns the files under dir as slash-separated paths relative to dir,
// sorted, at most max of them: RepoFacts' input for a folder on disk. It lists
// regular files and symbolic links, which it does not follow, so it never leaves
// dir (dir itself may be a link to a folder). It skips anything named .git or
// node_modules at any depth (a folder, or the .git file of a worktree) and leaves
// out sockets, devices and pipes. When max paths are found it stops walking and
// returns them with no error; the walk goes in lexical order, so the same tree
// gives the same paths. It fails when max is not positive, dir is not a folder,
// or a folder under it cannot be read.
func DirFiles(dir string, max int) ([]string, error) {
	if max <= 0 {
		return nil, fmt.Errorf("collect: DirFiles: max must be positive, got %d", max)
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("collect: DirFiles: %w", err)
	}
	if fi, err := os.Stat(root); err != nil {
		return nil, fmt.Errorf("collect: DirFiles: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("collect: DirFiles: %s is not a folder", dir)
	}
	paths := []string{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		if skippedNames[d.Name()] {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || (!d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0) {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		paths = append(paths, filepath.ToSlash(rel))
		if len(paths) >= max {
			return errEnough
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, fmt.Errorf("collect: DirFiles: %w", err)
	}
	sort.Strings(paths)
	return paths, nil
}
