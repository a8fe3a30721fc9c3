package app

import (
	"context"
	"fmt"
	"os"

	"backlot.dev/backlot/workflows/sandbox"
	"backlot.dev/backlot/workflows/scaffolder"
	"backlot.dev/backlot/workflows/scaffolder/customaction"
)

// withCustomActions loads the custom actions' registration files
// (--custom-actions) into acts: the API lists them and checks templates
// against them, a worker runs them. Executables run in the scripts'
// bubblewrap sandbox with the folders of their programs bound read-only; the
// network is given to those whose registration says network: true (the
// operator who writes the file grants it). A worker without a working
// sandbox refuses executables (unless --insecure-scripts) and says why.
func withCustomActions(ctx context.Context, acts *scaffolder.Activities, cfg workflowsConfig) error {
	if len(cfg.Scripts.CustomActions) == 0 {
		return nil
	}
	custom, err := customaction.Load(cfg.Scripts.CustomActions...)
	if err != nil {
		return fmt.Errorf("--custom-actions: %w", err)
	}
	acts.Custom = custom
	acts.BacklotURL = cfg.Scripts.ActionsAPIURL
	if acts.BacklotURL == "" {
		acts.BacklotURL = cfg.APIURL
	}
	if acts.BacklotURL == "" {
		acts.BacklotURL = os.Getenv("BACKLOT_URL")
	}
	dirs := customaction.Dirs(custom)
	runner, err := sandbox.New(ctx, sandbox.Config{Insecure: cfg.Scripts.Insecure, AllowNetwork: true, ReadOnly: dirs})
	if err != nil {
		if cfg.Logger != nil {
			cfg.Logger.Error("executable custom actions are refused on this worker", "err", err)
		}
		return nil
	}
	acts.Sandbox = runner
	if cfg.Logger != nil {
		cfg.Logger.Info("custom actions registered", "actions", custom.Len(), "sandboxed", runner.Sandboxed())
	}
	return nil
}
