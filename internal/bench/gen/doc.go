// Package gen writes synthetic Backstage catalogs for benchmarks: N entities of
// every built-in kind in a realistic mix, with owners, systems, domains, group
// hierarchy, memberships, dependencies and API relations that all resolve, spread
// over multi-document YAML files and tied together by one root Location file.
//
// Output is a pure function of the Config: the same seed writes the same bytes.
// Generate streams one file at a time and keeps no entity in memory, so 100,000
// entities take well under a second and a few megabytes. Edit changes a few
// components in place, for benchmarks that measure how soon a change is visible.
//
// The mix, by share of Config.Entities: 2% groups (a tree under one organization),
// 8% users (members of one or two groups), 0.2% domains, 2% systems, 60%
// components, 20% APIs (with a short inline OpenAPI definition), one Location (the
// root file) and resources for the rest. Every kind that others refer to (group,
// domain, system) has at least one entity.
package gen
