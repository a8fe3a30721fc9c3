package scaffolder

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func debugLog(_ context.Context, _ *Activities, r *Run) error {
	if msg, _ := r.Input["message"].(string); msg != "" {
		r.Logf("%s", msg)
	} else if v, ok := r.Input["message"]; ok && v != nil {
		r.Logf("%v", v)
	}
	if list, _ := r.Input["listWorkspace"].(bool); list {
		var files []string
		_ = filepath.WalkDir(r.Workspace.Dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(r.Workspace.Dir, p)
				files = append(files, filepath.ToSlash(rel))
			}
			return nil
		})
		sort.Strings(files)
		r.Logf("Workspace: %s", strings.Join(files, ", "))
	}
	return nil
}

func notificationSend(_ context.Context, _ *Activities, r *Run) error {
	title, err := r.Required("title")
	if err != nil {
		return err
	}
	to, err := r.Strings("entityRefs")
	if err != nil {
		return err
	}
	if len(to) == 0 {
		rec, _ := r.String("recipients")
		to = []string{orDefault(rec, "broadcast")}
	}
	info, _ := r.String("info")
	sev, _ := r.String("severity")
	r.Logf("Notification (%s) to %s: %s. %s", orDefault(sev, "normal"), strings.Join(to, ", "), title, info)
	r.Set("recipients", to)
	return nil
}
