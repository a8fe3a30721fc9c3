// Package collect holds the built-in fact collectors: pure functions that turn
// what can be observed of an entity's source into facts for badge policies.
//
// RepoFacts reports what a repository holds (facts.repo in a policy: readme,
// codeowners, tests, ci, docs, files) from nothing but the list of its file
// paths, so the same rules apply to a folder on disk (DirFiles lists one) and to
// a git commit (gitsource.Reader.ListFiles lists one). The facts are plain JSON
// values (bool, int64), so the same listing always marshals to the same bytes
// and a fact changes only when the repository does.
package collect
