// Package repocollect adapts the location reader to the badge evaluator: it
// lists the files of the repository an entity's descriptor lives in (a folder
// under the reader's roots, or a git commit of a url location) and turns them
// into facts.repo with collect.RepoFacts. Its Watcher tells the catalog
// service's refresh when a repository changed beside an unchanged descriptor,
// so its facts.repo are reported again.
package repocollect
