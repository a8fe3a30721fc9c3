package client

import "time"

// The statuses of a scaffolder task and of its steps.
const (
	TaskOpen       = "open"
	TaskProcessing = "processing"
	TaskCompleted  = "completed"
	TaskFailed     = "failed"
	TaskCancelled  = "cancelled"
	TaskSkipped    = "skipped"
)

// ParameterSchema is a template's parameter pages, as the parameter-schema
// endpoint answers them.
type ParameterSchema struct {
	Title       string          `json:"title"`
	Description string          `json:"description,omitempty"`
	Steps       []ParameterStep `json:"steps"`
}

// ParameterStep is one page of a ParameterSchema: a JSON Schema of the
// values the page asks for.
type ParameterStep struct {
	Title       string         `json:"title"`
	Description string         `json:"description,omitempty"`
	Schema      map[string]any `json:"schema"`
}

// StepState is where one step of a task stands.
type StepState struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Action    string     `json:"action"`
	Status    string     `json:"status"`
	StartedAt *time.Time `json:"startedAt,omitempty"`
	EndedAt   *time.Time `json:"endedAt,omitempty"`
}

// Waiting is the approval a task waits for.
type Waiting struct {
	StepID  string    `json:"stepId"`
	Message string    `json:"message"`
	Since   time.Time `json:"since"`
	// Approvers are the users and groups the step names as who decides it.
	Approvers []string `json:"approvers,omitempty"`
	// SelfApproval is whether the task's creator may decide it too.
	SelfApproval bool `json:"selfApproval,omitempty"`
}

// LogLine is one line of a task's or a dry run's log.
type LogLine struct {
	CreatedAt time.Time `json:"createdAt"`
	StepID    string    `json:"stepId,omitempty"`
	Status    string    `json:"status,omitempty"`
	Message   string    `json:"message"`
}

// File is one file of a dry run's workspace: sent as the skeleton, answered
// as the result.
type File struct {
	Path          string `json:"path"`
	Base64Content string `json:"base64Content"`
	Executable    bool   `json:"executable"`
}

// DryRunResult is a dry run's answer: the log, the workspace's files, the
// template's output and each step's status.
type DryRunResult struct {
	Log               []LogLine      `json:"log"`
	DirectoryContents []File         `json:"directoryContents"`
	Output            map[string]any `json:"output"`
	Steps             []StepState    `json:"steps"`
}
