package main

import (
	"github.com/spf13/pflag"

	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/internal/migratesvc"
	"backlot.dev/backlot/workflows/migration"
)

// scriptFlags adds the flags of migration scripts, which dev and serve
// share: how a worker runs them and the limits of a migration request.
func scriptFlags(f *pflag.FlagSet, c *app.ScriptsConfig) {
	f.BoolVar(&c.Insecure, "insecure-scripts", false,
		"run migration scripts WITHOUT isolation where bubblewrap (bwrap) is unavailable; without it such a worker refuses them")
	f.BoolVar(&c.Network, "script-network", false, "give the network to migration scripts whose spec asks for it (change.network)")
	f.IntVar(&c.MaxTargets, "migration-max-targets", migratesvc.DefaultMaxTargets, "most targets a migration may have")
	f.IntVar(&c.DryRunMaxTargets, "dry-run-max-targets", migratesvc.DefaultDryRunMaxTargets, "most targets a dry run may preview")
	f.StringArrayVar(&c.CustomActions, "custom-actions", nil,
		"a file registering custom scaffolder actions (Temporal activities on their own task queues, or executables); repeatable")
	f.StringVar(&c.ActionsAPIURL, "actions-api-url", "", "the API address executable actions call as BACKLOT_URL (default: dev's own address, else $BACKLOT_URL)")
	f.IntVar(&c.DryRunMaxDiff, "dry-run-max-diff", migration.MaxDiff, "most bytes of diff a dry run shows per repository (the rest is cut, marked truncated)")
}
