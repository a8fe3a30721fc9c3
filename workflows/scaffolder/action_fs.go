package scaffolder

import (
	"context"
	"strings"
)

func fsRename(_ context.Context, _ *Activities, r *Run) error {
	list, _ := r.Input["files"].([]any)
	if len(list) == 0 {
		return inputError("steps.%s.input.files: required, a list of {from, to}", r.In.StepID)
	}
	for i, e := range list {
		m, _ := e.(map[string]any)
		from, _ := m["from"].(string)
		to, _ := m["to"].(string)
		over, _ := m["overwrite"].(bool)
		if from == "" || to == "" {
			return inputError("steps.%s.input.files[%d]: from and to are required", r.In.StepID, i)
		}
		if err := Rename(r.Workspace, from, to, over); err != nil {
			return inputError("steps.%s.input.files[%d]: %v", r.In.StepID, i, err)
		}
		r.Logf("Renamed %s to %s", from, to)
	}
	return nil
}

func fsDelete(_ context.Context, _ *Activities, r *Run) error {
	files, err := r.Strings("files")
	if err != nil {
		return err
	}
	if err := Delete(r.Workspace, files); err != nil {
		return inputError("steps.%s.input.files: %v", r.In.StepID, err)
	}
	r.Logf("Deleted %s", strings.Join(files, ", "))
	return nil
}
