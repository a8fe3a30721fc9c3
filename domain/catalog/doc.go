// Package catalog is Backlot's model of the software catalog in the Backstage
// descriptor format: entities of every built-in kind, entity references with their
// defaults, Backstage's validation rules, the relation pairs each kind declares, and
// the parsing of multi-document YAML and JSON descriptor files with bounded size,
// document count and alias expansion.
//
// It imports only the standard library and a YAML parser.
package catalog
