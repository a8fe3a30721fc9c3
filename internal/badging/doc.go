// Package badging turns the catalog, the facts reported about it and its
// Policy entities into badge events, and takes facts from other systems.
//
// The Evaluator tails the event log. For each batch it works out which
// entities may have a new verdict (those upserted or removed, those with new
// facts, their related entities, or every entity when a policy changed),
// collects the built-in facts (facts.catalog from the catalog itself,
// facts.repo from the entity's repository) that a policy rating the entity
// reads (policies.Compiled.ReadsFacts), rates each entity with every policy
// (package policies) at the batch's time, and appends
// backlot.badge.awarded.v1, backlot.badge.revoked.v1 or
// backlot.check.changed.v1 only where a verdict changed, with
// backlot.facts.reported.v1 where a built-in fact changed. Verdicts are read
// back from the badge read model (package projections/badges), so an
// evaluation repeated after a crash writes nothing twice: their digests for
// every entity rated, and in full (for the checks that changed and the level
// before) only those whose digest differs from the new verdict's.
//
// A full evaluation (a policy changed) reads the catalog a page at a time,
// each entity once: a reader reads the next page with its verdicts and
// facts while the current page is rated on every core, in the order the
// entities were created (the cheapest to read). The drafts of the events are
// held, compact, until the last page is rated; then they are made into
// events and appended in the order of the entities' keys.
// The reader decodes each entity and runs the selectors as it reads the page,
// and reads relations (catalogstore.PageQuery.Decorate) and facts only for the
// entities a policy selects or that have verdicts to revoke.
// Before the first page it reads the catalog's deprecated entities with one
// filtered query, for facts.catalog, rather than looking up each page's
// dependencies. It waits for the badge read model to fold the events only at
// the end; the read model folds them in bulk (badges.PlanWrites). From its
// start until then Evaluator.NoFullEvaluation is open, and the process's
// history projector gives way to it (internal/app's badgesFirst), when some
// policy rates. Until its last page is rated Evaluator.NoFullRating is open
// too, and the badge read model's own fold gives way to the rating: it folds
// the verdicts once the last page is rated, while the evaluation appends the
// last events and waits for them.
//
// The evaluator does not read back the events it appended itself that it
// would only pass over (its badge events, the built-in collectors' facts):
// it remembers runs of their positions and, once the badge read model has
// folded a run, moves its position past it. A report of facts right after a
// full evaluation is then rated at once, not after the evaluator read its
// 120,000 events back.
//
// facts.repo is collected when an entity is upserted or a migration merged a
// change into its repository. A repository whose files change beside an
// unchanged descriptor is seen by the location's refresh instead
// (catalogsvc.RepoWatcher, repocollect.Watcher), which reports the new facts
// as RefreshCollectorActor; the evaluator rates the entity on them.
//
// The FactService takes facts from CI, coverage and security tools, checks them
// against the JSON Schema their source declared, and appends them as events.
package badging
