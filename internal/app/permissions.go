package app

import (
	"context"
	"fmt"
	"strings"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/audit"
	"backlot.dev/backlot/internal/auth"
	"backlot.dev/backlot/policies/permission"
)

// PermissionsConfig chooses the permission policy the api role enforces and
// who the guest is: the principal of every request when no authenticator is
// configured (backlot dev on loopback, backlot serve --insecure-no-auth).
type PermissionsConfig struct {
	// PolicyFile is a PermissionPolicy YAML file; "" is the default policy
	// (policies/permission/default.yaml).
	PolicyFile string
	// PlatformGroup and AuditorsGroup override the policy's platformGroup
	// and auditorsGroup parameters; "" keeps the policy's.
	PlatformGroup, AuditorsGroup string
	// GuestGroups are the groups of the guest, user:default/guest. Nil: the
	// policy's platform and auditors groups, so everything works on a
	// developer's own machine; empty (not nil): none, so the guest only reads.
	GuestGroups []string
}

// engine compiles the policy with the groups as parameters.
func (c PermissionsConfig) engine() (*permission.Engine, error) {
	params := map[string]string{}
	if c.PlatformGroup != "" {
		params["platformGroup"] = c.PlatformGroup
	}
	if c.AuditorsGroup != "" {
		params["auditorsGroup"] = c.AuditorsGroup
	}
	if c.PolicyFile == "" {
		return permission.Default(params)
	}
	p, err := permission.ParseFile(c.PolicyFile)
	if err != nil {
		return nil, err
	}
	e, err := permission.Compile(p, params)
	if err != nil {
		return nil, fmt.Errorf("--permission-policy %s: %w", c.PolicyFile, err)
	}
	return e, nil
}

// guest is the guest principal under e: DevActor with GuestGroups, or by
// default e's platform and auditors groups.
func (c PermissionsConfig) guest(e *permission.Engine) *auth.Principal {
	g := &auth.Principal{Ref: DevActor, Groups: c.GuestGroups}
	if c.GuestGroups == nil {
		params := e.Params()
		for _, name := range []string{"platformGroup", "auditorsGroup"} {
			if v := params[name]; v != "" {
				g.Groups = append(g.Groups, v)
			}
		}
	}
	return g
}

// describeGuest names the guest and its groups for a log line.
func describeGuest(g *auth.Principal) string {
	if len(g.Groups) == 0 {
		return g.Ref + " (no groups)"
	}
	return g.Ref + " (groups " + strings.Join(g.Groups, ", ") + ")"
}

// recordDenials records each permission denial in log, as the audit API
// shows them.
func recordDenials(log audit.Appender) func(context.Context, event.PermissionDenied) error {
	d := audit.Denials{Log: log}
	return func(ctx context.Context, denied event.PermissionDenied) error { return d.Record(ctx, denied, "") }
}
