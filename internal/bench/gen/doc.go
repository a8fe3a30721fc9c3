// Package gen is Backlot's one synthetic-data generator, for the bench command,
// benchmarks and tests. It makes synthetic Backstage catalogs two ways, with one
// set of names: as files to ingest (Generate, Edit) and as events to append to
// the log directly (ComponentUpserts, ComponentRemovals). Component i of a
// catalog of a seed has the same name and spec.type in both.
//
// Generate writes N entities of every built-in kind in a realistic mix, with
// owners, systems, domains, group hierarchy, memberships, dependencies and API
// relations that all resolve, spread over multi-document YAML files and tied
// together by one root Location file.
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
//
// ComponentUpserts makes the upsert events of a catalog's components, owned by
// its first groups and each depending on the next, in versions that edit every
// component; ComponentRemovals removes some of them. PolicyRules and Policy are
// the 20-check policy the bench registers.
package gen
