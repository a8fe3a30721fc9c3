package permission

import (
	"path"
	"slices"
)

// Permission is the name of something a principal may do, such as
// catalog.entity.delete. Every API action names one.
type Permission string

const (
	// CatalogLocationCreate registers a location, which ingests the entities it holds.
	CatalogLocationCreate Permission = "catalog.location.create"
	// CatalogLocationDelete removes a registered location.
	CatalogLocationDelete Permission = "catalog.location.delete"
	// CatalogLocationRead lists and reads registered locations.
	CatalogLocationRead Permission = "catalog.location.read"
	// CatalogEntityRead reads an entity, its relations, history and badges.
	CatalogEntityRead Permission = "catalog.entity.read"
	// CatalogEntityDelete deletes an entity (resource: the entity).
	CatalogEntityDelete Permission = "catalog.entity.delete"
	// CatalogEntityRefresh asks for an entity to be re-read from its location.
	CatalogEntityRefresh Permission = "catalog.entity.refresh"

	// ScaffolderTemplateRead reads a template and its parameters.
	ScaffolderTemplateRead Permission = "scaffolder.template.read"
	// ScaffolderTaskCreate runs a template (resource: the template, with its allowed groups).
	ScaffolderTaskCreate Permission = "scaffolder.task.create"
	// ScaffolderTaskDryRun renders an uploaded template into a preview,
	// publishing and registering nothing.
	ScaffolderTaskDryRun Permission = "scaffolder.task.dryrun"
	// ScaffolderTaskRead reads a task, its steps and its log.
	ScaffolderTaskRead Permission = "scaffolder.task.read"
	// ScaffolderTaskCancel cancels a running task (resource: the task, with its creator).
	ScaffolderTaskCancel Permission = "scaffolder.task.cancel"
	// ScaffolderTaskRetry retries a failed task (resource: the task, with its creator).
	ScaffolderTaskRetry Permission = "scaffolder.task.retry"
	// ScaffolderApprovalDecide approves or rejects a backlot:approval step
	// (resource: the step, with its approvers, the task's creator and selfApproval).
	ScaffolderApprovalDecide Permission = "scaffolder.approval.decide"

	// MigrationCreate starts a fleet migration.
	MigrationCreate Permission = "migration.create"
	// MigrationDryRun runs a migration's script without opening changes.
	MigrationDryRun Permission = "migration.dryrun"
	// MigrationControl pauses, resumes or cancels a migration.
	MigrationControl Permission = "migration.control"
	// MigrationRead reads a migration, its targets and its report.
	MigrationRead Permission = "migration.read"

	// FactsReport reports facts about an entity (resource: the entity and the fact source).
	FactsReport Permission = "facts.report"
	// FactsSourceDeclare declares the JSON Schema a fact source's facts must follow
	// (resource: the source).
	FactsSourceDeclare Permission = "facts.source.declare"

	// PolicyRead reads badge and permission policies and badges.
	PolicyRead Permission = "policy.read"
	// PolicyWrite creates, changes or deletes a policy.
	PolicyWrite Permission = "policy.write"

	// EventsRead reads the event log and streams it.
	EventsRead Permission = "events.read"
	// EventsSubscriptionCreate creates a webhook subscription.
	EventsSubscriptionCreate Permission = "events.subscription.create"
	// EventsSubscriptionReplay delivers a subscription's dead letter again
	// (resource: the subscription, with its creator).
	EventsSubscriptionReplay Permission = "events.subscription.replay"
	// EventsSubscriptionRead reads a subscription and its deliveries (resource: the subscription, with its creator).
	EventsSubscriptionRead Permission = "events.subscription.read"
	// EventsSubscriptionDelete deletes a subscription (resource: the subscription, with its creator).
	EventsSubscriptionDelete Permission = "events.subscription.delete"

	// AuditRead reads and verifies the audit trail.
	AuditRead Permission = "audit.read"

	// GitChangeMerge merges a change Backlot opened (resource: the entity whose repository it is).
	GitChangeMerge Permission = "git.change.merge"
	// GitChangeClose closes a change Backlot opened without merging it.
	GitChangeClose Permission = "git.change.close"
	// GitHookReceive delivers a git host's webhook.
	GitHookReceive Permission = "git.hook.receive"
	// GitRepoRead lists the local git host's repositories and their change requests.
	GitRepoRead Permission = "git.repo.read"
)

// All lists every permission, sorted by name.
var All = []Permission{
	AuditRead,
	CatalogEntityDelete, CatalogEntityRead, CatalogEntityRefresh,
	CatalogLocationCreate, CatalogLocationDelete, CatalogLocationRead,
	EventsRead, EventsSubscriptionCreate, EventsSubscriptionDelete, EventsSubscriptionRead, EventsSubscriptionReplay,
	FactsReport, FactsSourceDeclare,
	GitChangeClose, GitChangeMerge, GitHookReceive, GitRepoRead,
	MigrationControl, MigrationCreate, MigrationDryRun, MigrationRead,
	PolicyRead, PolicyWrite,
	ScaffolderApprovalDecide, ScaffolderTaskCancel, ScaffolderTaskCreate, ScaffolderTaskDryRun, ScaffolderTaskRead, ScaffolderTaskRetry, ScaffolderTemplateRead,
}

// Known reports whether p is one of the permissions in All.
func Known(p Permission) bool {
	_, ok := slices.BinarySearch(All, p)
	return ok
}

// matches reports whether a rule's permission pattern covers p: an exact
// name, or a glob where * stands for any run of characters (catalog.*
// covers catalog.entity.read, * covers everything).
func matches(pattern string, p Permission) bool {
	ok, _ := path.Match(pattern, string(p))
	return ok
}
