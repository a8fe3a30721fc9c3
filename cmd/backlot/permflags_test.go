package main

import (
	"slices"
	"testing"

	"github.com/spf13/pflag"

	"backlot.dev/backlot/internal/app"
)

func TestPermissionFlags(t *testing.T) {
	for _, c := range []struct {
		name     string
		args     []string
		want     app.PermissionsConfig
		wantNone bool
		err      bool
	}{
		{name: "nothing given", args: nil, want: app.PermissionsConfig{}},
		{name: "groups completed into refs", args: []string{"--platform-group", "sre", "--auditors-group", "compliance/auditors"},
			want: app.PermissionsConfig{PlatformGroup: "group:default/sre", AuditorsGroup: "group:compliance/auditors"}},
		{name: "guest groups", args: []string{"--guest-groups", "team-a,group:default/team-b"},
			want: app.PermissionsConfig{GuestGroups: []string{"group:default/team-a", "group:default/team-b"}}},
		{name: "a guest without groups", args: []string{"--guest-groups", "none"}, wantNone: true},
		{name: "a policy file", args: []string{"--permission-policy", "p.yaml"}, want: app.PermissionsConfig{PolicyFile: "p.yaml"}},
		{name: "not a group", args: []string{"--guest-groups", "user:default/ada"}, err: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := pflag.NewFlagSet("t", pflag.ContinueOnError)
			var cfg app.PermissionsConfig
			apply := permissionFlags(f, &cfg)
			if err := f.Parse(c.args); err != nil {
				t.Fatal(err)
			}
			err := apply()
			if (err != nil) != c.err {
				t.Fatalf("err = %v, want error %v", err, c.err)
			}
			if c.err {
				return
			}
			if c.wantNone {
				if cfg.GuestGroups == nil || len(cfg.GuestGroups) != 0 {
					t.Errorf("--guest-groups none: %#v, want an empty list", cfg.GuestGroups)
				}
				return
			}
			if cfg.PolicyFile != c.want.PolicyFile || cfg.PlatformGroup != c.want.PlatformGroup || cfg.AuditorsGroup != c.want.AuditorsGroup ||
				!slices.Equal(cfg.GuestGroups, c.want.GuestGroups) {
				t.Errorf("config %+v, want %+v", cfg, c.want)
			}
		})
	}
}
