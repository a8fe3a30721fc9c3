package customaction

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"

	"backlot.dev/backlot/workflows/scaffolder"
)

// MaxFileBytes bounds a registration file.
const MaxFileBytes = 1 << 20

// File is a registration file: a list of actions.
type File struct {
	Actions []Entry `yaml:"actions" json:"actions"`
}

// Entry registers one action. Exactly one of Command (an executable) or
// TaskQueue with ActivityType (a Temporal activity) is set.
type Entry struct {
	// ID is the action id templates name.
	ID string `yaml:"id" json:"id"`
	// Description says what the action does (GET /v2/actions shows it).
	Description string `yaml:"description" json:"description"`
	// TaskQueue and ActivityType name a Temporal activity.
	TaskQueue    string `yaml:"taskQueue" json:"taskQueue"`
	ActivityType string `yaml:"activityType" json:"activityType"`
	// Command is the executable and its arguments; a relative path is
	// relative to the registration file's folder.
	Command []string `yaml:"command" json:"command"`
	// Network gives the executable the network inside its sandbox.
	Network bool `yaml:"network" json:"network"`
	// Secrets are the task secrets the executable receives as
	// BACKLOT_SECRET_<NAME>.
	Secrets []string `yaml:"secrets" json:"secrets"`
	// Timeout is a Go duration (90s, 5m); default 5m.
	Timeout string `yaml:"timeout" json:"timeout"`
	// Schema holds the JSON Schemas of the input and the output.
	Schema struct {
		Input  map[string]any `yaml:"input" json:"input"`
		Output map[string]any `yaml:"output" json:"output"`
	} `yaml:"schema" json:"schema"`
}

// Load reads registration files (YAML or JSON) and compiles their actions.
// Errors name the file, the action and the field; an id registered in two
// files is an error.
func Load(paths ...string) (*scaffolder.CustomActions, error) {
	var all []scaffolder.CustomAction
	from := map[string]string{}
	for _, p := range paths {
		list, err := ReadFile(p)
		if err != nil {
			return nil, err
		}
		for _, a := range list {
			if prev, ok := from[a.ID]; ok {
				return nil, fmt.Errorf("%s: action %s: already registered in %s", p, a.ID, prev)
			}
			from[a.ID] = p
		}
		if _, err := scaffolder.NewCustomActions(list); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		all = append(all, list...)
	}
	return scaffolder.NewCustomActions(all)
}

// ReadFile reads one registration file into actions, with relative commands
// made absolute against the file's folder.
func ReadFile(path string) ([]scaffolder.CustomAction, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(raw) > MaxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, MaxFileBytes)
	}
	var file File
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	out := make([]scaffolder.CustomAction, 0, len(file.Actions))
	for i, e := range file.Actions {
		a, err := e.action(dir)
		if err != nil {
			return nil, fmt.Errorf("%s: actions[%d] (%s).%w", path, i, e.ID, err)
		}
		out = append(out, a)
	}
	if _, err := scaffolder.NewCustomActions(out); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// fieldError is a problem with one field of an entry.
type fieldError struct{ field, problem string }

func (e *fieldError) Error() string { return e.field + ": " + e.problem }

func (e Entry) action(dir string) (scaffolder.CustomAction, error) {
	a := scaffolder.CustomAction{
		ID: e.ID, Description: e.Description, TaskQueue: e.TaskQueue, ActivityType: e.ActivityType,
		Network: e.Network, Secrets: e.Secrets, Input: e.Schema.Input, Output: e.Schema.Output,
	}
	if e.Timeout != "" {
		d, err := time.ParseDuration(e.Timeout)
		if err != nil || d <= 0 {
			return a, &fieldError{"timeout", fmt.Sprintf("%q is not a positive Go duration (90s, 5m)", e.Timeout)}
		}
		a.Timeout = d
	}
	if len(e.Command) > 0 {
		cmd := append([]string(nil), e.Command...)
		if cmd[0] == "" {
			return a, &fieldError{"command[0]", "empty"}
		}
		if !filepath.IsAbs(cmd[0]) {
			cmd[0] = filepath.Join(dir, cmd[0])
		}
		a.Command = cmd
	}
	return a, nil
}

// Dirs returns the folders of the executables' programs, for the sandbox
// to bind read-only (a program under /usr is there already).
func Dirs(c *scaffolder.CustomActions) []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range c.Described() {
		a, _ := c.Lookup(d.ID)
		if len(a.Command) == 0 {
			continue
		}
		dir := filepath.Dir(a.Command[0])
		if seen[dir] || underSystem(dir) {
			continue
		}
		seen[dir] = true
		out = append(out, dir)
	}
	return out
}

func underSystem(dir string) bool {
	for _, p := range []string{"/usr", "/bin", "/lib", "/sbin"} {
		if dir == p || len(dir) > len(p) && dir[:len(p)+1] == p+"/" {
			return true
		}
	}
	return false
}
