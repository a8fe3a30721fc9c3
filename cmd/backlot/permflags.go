package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"backlot.dev/backlot/internal/app"
)

// permissionFlags adds the permission policy's flags of dev and serve:
// --permission-policy, --platform-group, --auditors-group and
// --guest-groups. Call the returned func once the flags are parsed.
func permissionFlags(f *pflag.FlagSet, cfg *app.PermissionsConfig) func() error {
	var guest []string
	f.StringVar(&cfg.PolicyFile, "permission-policy", "", "a PermissionPolicy YAML file the api enforces (default: the policy Backlot ships, policies/permission/README.md)")
	f.StringVar(&cfg.PlatformGroup, "platform-group", "", "the group that runs migrations, registers locations and operates everything (the policy's platformGroup; default group:default/platform)")
	f.StringVar(&cfg.AuditorsGroup, "auditors-group", "", "the group that reads the audit trail (the policy's auditorsGroup; default group:default/auditors)")
	f.StringArrayVar(&guest, "guest-groups", nil, `groups of user:default/guest, who every request acts as without --auth-tokens (repeatable, comma-separated; "none" for none; default: the platform and auditors groups)`)
	return func() error {
		for _, g := range []*string{&cfg.PlatformGroup, &cfg.AuditorsGroup} {
			if *g == "" {
				continue
			}
			ref, err := groupRef(*g)
			if err != nil {
				return err
			}
			*g = ref
		}
		if !f.Changed("guest-groups") {
			return nil
		}
		cfg.GuestGroups = []string{}
		for _, g := range splitGroups(guest) {
			if g == "none" {
				continue
			}
			ref, err := groupRef(g)
			if err != nil {
				return fmt.Errorf("--guest-groups: %w", err)
			}
			cfg.GuestGroups = append(cfg.GuestGroups, ref)
		}
		return nil
	}
}

// groupRef completes a group name into a group ref: team-a is
// group:default/team-a, ns/team-a is group:ns/team-a.
func groupRef(g string) (string, error) {
	g = strings.TrimSpace(g)
	if g == "" {
		return "", fmt.Errorf("an empty group")
	}
	name := strings.TrimPrefix(g, "group:")
	if strings.Contains(name, ":") {
		return "", fmt.Errorf("%q is not a group ref (group:namespace/name)", g)
	}
	if !strings.Contains(name, "/") {
		name = "default/" + name
	}
	return "group:" + strings.ToLower(name), nil
}
