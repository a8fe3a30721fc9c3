package migration

import (
	"fmt"
	"regexp"
	"time"

	"backlot.dev/backlot/workflows/githost"
)

// TaskQueue is the Temporal task queue of migration workflows and activities.
const TaskQueue = "backlot-migrations"

// The names the workflows are registered under.
const (
	// WorkflowName is the migration's workflow (MigrationWorkflow); its id
	// is the migration's id.
	WorkflowName = "migration"
	// RepoWorkflowName is one target's child workflow (RepoWorkflow); its id
	// is ChildID(migration, ref).
	RepoWorkflowName = "migration-repo"
	// DryRunWorkflowName is the dry run's workflow type: the previews run
	// as activities on the workers.
	DryRunWorkflowName = "migration-dryrun"
)

// The names the activities are registered under (methods of Activities).
const (
	ActivityPrepare      = "migration.prepare"
	ActivityOpenChange   = "migration.open-change"
	ActivityTrack        = "migration.track"
	ActivityCloseChanges = "migration.close-changes"
	ActivityRecord       = "migration.record"
	// ActivityPreview previews one target of a dry run.
	ActivityPreview = "migration.preview"
)

// The signals MigrationWorkflow takes and the query it answers.
const (
	// SignalPause stops new targets from starting; running ones finish and
	// open change requests are still tracked.
	SignalPause = "pause"
	// SignalResume undoes pause, and lets a rollout stopped by a wave's
	// failures go on with the next wave.
	SignalResume = "resume"
	// SignalCancel cancels the running targets and every target not started
	// yet, and ends the migration; change requests already open stay open
	// (send SignalClosePRs to close them). Its payload is an optional reason.
	SignalCancel = "cancel"
	// SignalRetryFailed puts every failed target back in the queue, and lets a
	// rollout stopped by a wave's failures check that wave again.
	SignalRetryFailed = "retry-failed"
	// SignalClosePRs closes every open change request of the migration; its
	// targets end closed.
	SignalClosePRs = "close-prs"
	// SignalChangeUpdated wakes the tracking of change requests at once (a
	// webhook's cue); its payload is a ChangeUpdate.
	SignalChangeUpdated = "change-updated"
	// QueryProgress answers a Report.
	QueryProgress = "progress"
)

// Defaults of an Input.
const (
	// DefaultPollInterval is how often open change requests are read.
	DefaultPollInterval = 5 * time.Minute
	// DefaultRetryWindow is how long a migration whose only work left is
	// failed targets (or a stopped rollout) waits for retry-failed, resume or
	// cancel before it ends, when the spec names no later deadline.
	DefaultRetryWindow = 7 * 24 * time.Hour
	// DefaultHistoryLimit is the history length past which a run continues
	// as new, once no child runs, far below Temporal's 51,200 events.
	DefaultHistoryLimit = 10_000
)

// Bounds of what a run keeps.
const (
	// OutputTail is how much of a script's combined output is kept: the end.
	OutputTail = 4 << 10
	// rowOutput is how much of it each row of the workflow's state keeps, so
	// 10,000 failed targets stay within a payload; events carry OutputTail.
	rowOutput = 1 << 10
	// trackBatch is how many change requests one tracking activity reads.
	trackBatch = 50
	// recordBatch is how many events one Record activity appends.
	recordBatch = 200
	// burndownPoints bounds the burndown series; older points thin out.
	burndownPoints = 1000
)

// How soon an activity lost with its worker is tried again: activities that
// work long heartbeat within heartbeatTimeout; the others (a host's API
// call, an append to the log) finish within shortActivityTimeout.
const (
	heartbeatTimeout     = 15 * time.Second
	shortActivityTimeout = 30 * time.Second
)

// TargetState is where one target of a migration stands.
type TargetState string

// The states of a target. Pending and cancelled exist only in the workflow's
// progress; the others are also recorded as MigrationTargetChanged events.
const (
	StatePending      TargetState = "pending"
	StateTargeted     TargetState = "targeted"
	StateUnchanged    TargetState = "unchanged"
	StateOpened       TargetState = "opened"
	StateChecksPassed TargetState = "checks-passed"
	StateMerged       TargetState = "merged"
	StateFailed       TargetState = "failed"
	StateClosed       TargetState = "closed"
	StateCancelled    TargetState = "cancelled"
)

// TargetStates lists the states in the order a target goes through them.
var TargetStates = []TargetState{StatePending, StateTargeted, StateUnchanged, StateOpened, StateChecksPassed, StateMerged, StateFailed, StateClosed, StateCancelled}

// done reports whether a target needs nothing more: merged, already
// migrated or its change request closed.
func (s TargetState) done() bool {
	return s == StateMerged || s == StateUnchanged || s == StateClosed
}

// open reports whether the target's change request is open.
func (s TargetState) open() bool { return s == StateOpened || s == StateChecksPassed }

// The states of a migration (Report.State, Summary.State and the
// MigrationChanged events).
const (
	MigrationStarted   = "started"
	MigrationRunning   = "running"
	MigrationPaused    = "paused"
	MigrationResumed   = "resumed"
	MigrationStopped   = "stopped"
	MigrationCancelled = "cancelled"
	MigrationCompleted = "completed"
)

// TargetInput is one target as the workflow carries it: the entity, its
// repository URL and its rendered change request.
type TargetInput struct {
	Ref   string `json:"ref"`
	Name  string `json:"name,omitempty"`
	Owner string `json:"owner,omitempty"`
	Repo  string `json:"repo"`
	Title string `json:"title"`
	Body  string `json:"body,omitempty"`
}

// Env is the environment the target's script runs with (see Target.Env).
func (t TargetInput) Env() []string {
	return Target{Ref: t.Ref, Name: t.Name, Owner: t.Owner}.Env()
}

// Input starts a migration workflow.
type Input struct {
	// ID is the migration's id: the workflow id and the events' correlation.
	ID string `json:"id"`
	// Spec is the validated spec.
	Spec Spec `json:"spec"`
	// Targets are the chosen targets, in rollout order.
	Targets []TargetInput `json:"targets"`
	// Actor is who started the migration; its events carry it.
	Actor string `json:"actor,omitempty"`
	// PollInterval is how often open change requests are read; default
	// DefaultPollInterval. SignalChangeUpdated reads them at once.
	PollInterval time.Duration `json:"pollInterval,omitempty"`
	// RetryWindow is how long the migration waits when only failed targets
	// (or a stopped rollout) are left; default DefaultRetryWindow, or until
	// the spec's deadline when that is later.
	RetryWindow time.Duration `json:"retryWindow,omitempty"`
	// HistoryLimit is the history length past which a run continues as new;
	// default DefaultHistoryLimit.
	HistoryLimit int `json:"historyLimit,omitempty"`
	// State is carried over by continue-as-new; nil on the first run.
	State *State `json:"state,omitempty"`
}

// NewInput renders each target's change request and returns the input of a
// migration of spec (already validated) over targets.
func NewInput(id string, spec *Spec, targets []Target, actor string) (Input, error) {
	in := Input{ID: id, Spec: *spec, Actor: actor}
	for _, t := range targets {
		title, body, err := spec.PullRequest(t)
		if err != nil {
			return Input{}, fmt.Errorf("migration %s: target %s: %w", spec.Metadata.Name, t.Ref, err)
		}
		in.Targets = append(in.Targets, TargetInput{Ref: t.Ref, Name: t.Name, Owner: t.Owner, Repo: t.Repo, Title: title, Body: body})
	}
	return in, nil
}

// State is a migration's state that a run carries to the next one.
type State struct {
	// Rows are the targets' states, in the order of Input.Targets.
	Rows []Row `json:"rows"`
	// Paused, Stopped and Cancelled are the migration's flags; Reason says
	// why it stopped or was cancelled.
	Paused    bool   `json:"paused,omitempty"`
	Stopped   bool   `json:"stopped,omitempty"`
	Cancelled bool   `json:"cancelled,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// Passed counts the waves that finished within their failure rate.
	Passed int `json:"passed,omitempty"`
	// Starts are the target starts of the last hour, for MaxPerHour.
	Starts []time.Time `json:"starts,omitempty"`
	// Burndown is the series of targets not yet done.
	Burndown []BurndownPoint `json:"burndown,omitempty"`
	// Runs counts the runs before this one.
	Runs int `json:"runs,omitempty"`
	// Seq counts the events recorded, for their ids.
	Seq int `json:"seq,omitempty"`
	// IdleSince is when only failed targets were left, for the retry window.
	IdleSince time.Time `json:"idleSince,omitzero"`
}

// Row is one target's state, kept compact: a migration carries thousands.
type Row struct {
	State     TargetState   `json:"s"`
	Repo      *githost.Repo `json:"r,omitempty"`
	Change    int           `json:"c,omitempty"`
	ChangeURL string        `json:"u,omitempty"`
	Error     string        `json:"e,omitempty"`
	Output    string        `json:"o,omitempty"`
	Attempts  int           `json:"a,omitempty"`
}

// BurndownPoint is how many targets were not yet done (merged, unchanged or
// closed) at a time.
type BurndownPoint struct {
	Time      time.Time `json:"time"`
	Remaining int       `json:"remaining"`
}

// Report is a migration's progress, as QueryProgress answers it.
type Report struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// State is running, paused, stopped, cancelled or completed.
	State     string `json:"state"`
	Paused    bool   `json:"paused"`
	Stopped   bool   `json:"stopped"`
	Cancelled bool   `json:"cancelled"`
	Reason    string `json:"reason,omitempty"`
	// Wave is the current wave, from 1; Waves are their sizes.
	Wave  int   `json:"wave"`
	Waves []int `json:"waves"`
	// Counts are the targets per state.
	Counts   map[TargetState]int `json:"counts"`
	Targets  []TargetRow         `json:"targets"`
	Burndown []BurndownPoint     `json:"burndown"`
	// Runs counts the workflow's runs (continue-as-new) before this one.
	Runs int `json:"runs"`
	// RetryUntil is set once every target has finished and only failed
	// targets are left: the migration then waits until this instant for
	// retry-failed (or cancel) and does nothing by itself. Zero otherwise.
	RetryUntil time.Time `json:"retryUntil,omitzero"`
}

// Finished reports whether the migration will change nothing more by
// itself: it ended (completed, stopped or cancelled), or every target has
// finished and it only waits for retry-failed (RetryUntil).
func (r Report) Finished() bool {
	switch r.State {
	case MigrationCompleted, MigrationCancelled, MigrationStopped:
		return true
	}
	return !r.RetryUntil.IsZero()
}

// TargetRow is one target in a Report.
type TargetRow struct {
	Ref       string      `json:"ref"`
	Repo      string      `json:"repo"`
	State     TargetState `json:"state"`
	Change    int         `json:"change,omitempty"`
	ChangeURL string      `json:"changeUrl,omitempty"`
	Error     string      `json:"error,omitempty"`
	Output    string      `json:"output,omitempty"`
	Attempts  int         `json:"attempts,omitempty"`
}

// Summary is what a finished migration workflow returns.
type Summary struct {
	ID     string              `json:"id"`
	State  string              `json:"state"`
	Reason string              `json:"reason,omitempty"`
	Counts map[TargetState]int `json:"counts"`
}

// ChangeUpdate is SignalChangeUpdated's payload: which change request a
// webhook saw change. Empty, every open one is read.
type ChangeUpdate struct {
	// Ref is the target's entity ref.
	Ref string `json:"ref,omitempty"`
	// Repo is the repository as owner/name (or its URL), with Number the
	// change request's number.
	Repo   string `json:"repo,omitempty"`
	Number int    `json:"number,omitempty"`
}

var unsafeID = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// ChildID is the workflow id of a target's child workflow:
// <migration>/<ref with every run of other characters than letters,
// digits, ., _ and - made one _>.
func ChildID(migration, ref string) string {
	return migration + "/" + unsafeID.ReplaceAllString(ref, "_")
}
