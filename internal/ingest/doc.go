// Package ingest reads registered locations: files and globs on disk (only under
// configured roots) and files in git repositories (only on configured hosts),
// follows Location entities to their targets, resolves placeholders, validates
// every document and feeds the entities and problems it finds to a refresh.Decider.
package ingest
