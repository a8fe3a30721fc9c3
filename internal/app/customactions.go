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
// (--custom-actions) into acts, so the API lists them and checks templates
// against them and a worker runs them, and gives acts the sandbox that
// executable actions and fetch:cookiecutter run in: the scripts' bubblewrap
// sandbox, with the folders of the executables' programs bound read-only.
// The network is given to the executables whose registration says
// network: true (the operator who writes the file grants it), never to
// cookiecutter. A worker without a working sandbox refuses them (unless
// --insecure-scripts) and says why.
func withCustomActions(ctx context.Context, acts *scaffolder.Activities, cfg workflowsConfig) error {
	if len(cfg.Scripts.CustomActions) > 0 {
		custom, err := customaction.Load(cfg.Scripts.CustomActions...)
		if err != nil {
			return fmt.Errorf("--custom-actions: %w", err)
		}
		acts.Custom = custom
	}
	acts.BacklotURL = cfg.Scripts.ActionsAPIURL
	if acts.BacklotURL == "" {
		acts.BacklotURL = cfg.APIURL
	}
	if acts.BacklotURL == "" {
		acts.BacklotURL = os.Getenv("BACKLOT_URL")
	}
	runner, err := sandbox.New(ctx, sandbox.Config{Insecure: cfg.Scripts.Insecure, AllowNetwork: true, ReadOnly: customaction.Dirs(acts.Custom)})
	if err != nil {
		if cfg.Logger != nil {
			cfg.Logger.Error("executable custom actions and fetch:cookiecutter are refused on this worker", "err", err)
		}
		return nil
	}
	acts.Sandbox = runner
	if cfg.Logger != nil && acts.Custom.Len() > 0 {
		cfg.Logger.Info("custom actions registered", "actions", acts.Custom.Len(), "sandboxed", runner.Sandboxed())
	}
	return nil
}
