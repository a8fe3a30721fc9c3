package event

import "time"

// The event types the workflows write: scaffolder tasks and fleet migrations.
const (
	// TypeTaskStarted records that a scaffolder task began: who ran which
	// template at which version. Its subject is task:<id>.
	TypeTaskStarted Type = "backlot.scaffolder.task.started.v1"
	// TypeTaskFinished records that a scaffolder task ended: completed,
	// failed or cancelled, with the entities it registered. Subject task:<id>.
	TypeTaskFinished Type = "backlot.scaffolder.task.finished.v1"
	// TypeMigrationChanged records a migration's own transition (started,
	// paused, resumed, cancelled, stopped, completed). Subject migration:<id>.
	TypeMigrationChanged Type = "backlot.migration.changed.v1"
	// TypeMigrationTargetChanged records one repository's transition in a
	// migration (targeted, unchanged, opened, checks-passed, merged, failed,
	// closed). Its subject is the target entity's ref, so the entity's history
	// and its badges see it.
	TypeMigrationTargetChanged Type = "backlot.migration.target.changed.v1"
)

// TaskSubject is the subject of a scaffolder task's events.
func TaskSubject(id string) string { return "task:" + id }

// MigrationSubject is the subject of a migration's own events.
func MigrationSubject(id string) string { return "migration:" + id }

// TaskStarted is the data of TypeTaskStarted.
type TaskStarted struct {
	// Task is the task's id.
	Task string `json:"task"`
	// Template is the canonical ref of the template run.
	Template string `json:"template"`
	// TemplateVersion identifies the template's body that ran: the hash of
	// the entity as the catalog held it.
	TemplateVersion string `json:"templateVersion"`
	// User is the ref of who started the task.
	User string `json:"user"`
	// Parameters are the form's values; secrets are never among them.
	Parameters map[string]any `json:"parameters"`
}

// TaskFinished is the data of TypeTaskFinished.
type TaskFinished struct {
	// Task is the task's id.
	Task string `json:"task"`
	// Template is the canonical ref of the template run.
	Template string `json:"template"`
	// TemplateVersion is the hash of the template's body that ran.
	TemplateVersion string `json:"templateVersion"`
	// User is the ref of who started the task.
	User string `json:"user"`
	// Status is completed, failed or cancelled.
	Status string `json:"status"`
	// Error says why a failed task failed.
	Error string `json:"error,omitempty"`
	// FailedStep is the id of the step that failed.
	FailedStep string `json:"failedStep,omitempty"`
	// Entities are the refs of the entities the task registered.
	Entities []string `json:"entities"`
	// Output is the template's rendered output (links and text).
	Output map[string]any `json:"output,omitempty"`
}

// MigrationChanged is the data of TypeMigrationChanged.
type MigrationChanged struct {
	// Migration is the migration's id.
	Migration string `json:"migration"`
	// Name is the spec's metadata.name.
	Name string `json:"name"`
	// State is started, paused, resumed, cancelled, stopped or completed.
	State string `json:"state"`
	// Reason says why, for stopped (a wave over its failure rate) and cancelled.
	Reason string `json:"reason,omitempty"`
	// Targets is how many repositories the migration targets.
	Targets int `json:"targets"`
	// Campaign names the policy campaign the migration moves, as policy/campaign.
	Campaign string `json:"campaign,omitempty"`
}

// MigrationTargetChanged is the data of TypeMigrationTargetChanged.
type MigrationTargetChanged struct {
	// Migration is the migration's id.
	Migration string `json:"migration"`
	// Entity is the target's canonical ref, equal to the subject.
	Entity string `json:"entity"`
	// Repo is the target's repository URL.
	Repo string `json:"repo"`
	// State is targeted, unchanged, opened, checks-passed, merged, failed or closed.
	State string `json:"state"`
	// Change is the change request's number, once opened.
	Change int `json:"change,omitempty"`
	// ChangeURL links to the change request.
	ChangeURL string `json:"changeUrl,omitempty"`
	// Error says why a failed target failed.
	Error string `json:"error,omitempty"`
	// Output is the tail of the change script's output, for a failed script.
	Output string `json:"output,omitempty"`
	// At is when the transition happened.
	At time.Time `json:"at"`
}
