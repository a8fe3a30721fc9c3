package client

import "time"

// TargetState is where one target of a migration stands, as the migrations
// API spells it.
type TargetState string

// The target states the migrations API answers.
const (
	TargetPending      TargetState = "pending"
	TargetTargeted     TargetState = "targeted"
	TargetUnchanged    TargetState = "unchanged"
	TargetOpened       TargetState = "opened"
	TargetChecksPassed TargetState = "checks-passed"
	TargetMerged       TargetState = "merged"
	TargetFailed       TargetState = "failed"
	TargetClosed       TargetState = "closed"
	TargetCancelled    TargetState = "cancelled"
)

// The states of a whole migration (MigrationReport.State).
const (
	MigrationRunning   = "running"
	MigrationPaused    = "paused"
	MigrationStopped   = "stopped"
	MigrationCancelled = "cancelled"
	MigrationCompleted = "completed"
)

// MigrationSkipped is an entity a migration cannot change, and why.
type MigrationSkipped struct {
	Ref    string `json:"ref"`
	Reason string `json:"reason"`
}

// MigrationPreview is what a dry run of a migration would change in one
// target's repository.
type MigrationPreview struct {
	Ref  string `json:"ref"`
	Repo string `json:"repo"`
	// Unchanged is set when the script changes nothing (already migrated).
	Unchanged bool `json:"unchanged,omitempty"`
	// Diff is the unified diff of the change, possibly truncated.
	Diff      string `json:"diff,omitempty"`
	Truncated bool   `json:"truncated,omitempty"`
	// Output is the end of the script's combined output.
	Output string `json:"output,omitempty"`
	// Error says why this target could not be previewed.
	Error string `json:"error,omitempty"`
}

// MigrationReport is a migration's progress as GET /api/migrations/{id}
// answers it.
type MigrationReport struct {
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
	Targets  []MigrationTarget   `json:"targets"`
	Burndown []BurndownPoint     `json:"burndown"`
	// Runs counts the workflow's runs before the current one.
	Runs int `json:"runs"`
	// RetryUntil is set once only failed targets are left: the migration
	// waits until then for retry-failed or cancel. Zero otherwise.
	RetryUntil time.Time `json:"retryUntil,omitzero"`
}

// Finished reports whether the migration will change nothing more by
// itself: it ended (completed, stopped or cancelled), or every target has
// finished and it only waits for retry-failed (RetryUntil).
func (r MigrationReport) Finished() bool {
	switch r.State {
	case MigrationCompleted, MigrationCancelled, MigrationStopped:
		return true
	}
	return !r.RetryUntil.IsZero()
}

// MigrationTarget is one target in a MigrationReport.
type MigrationTarget struct {
	Ref       string      `json:"ref"`
	Repo      string      `json:"repo"`
	State     TargetState `json:"state"`
	Change    int         `json:"change,omitempty"`
	ChangeURL string      `json:"changeUrl,omitempty"`
	Error     string      `json:"error,omitempty"`
	Output    string      `json:"output,omitempty"`
	Attempts  int         `json:"attempts,omitempty"`
}

// BurndownPoint is how many targets of a migration were not yet done
// (merged, unchanged or closed) at a time.
type BurndownPoint struct {
	Time      time.Time `json:"time"`
	Remaining int       `json:"remaining"`
}
