package app

import (
	"slices"
	"strings"
	"testing"

	"backlot.dev/backlot/internal/httpapi"
)

// TestEveryManifestRouteNamesAPermission checks that every route a
// Manifest can list (each API area's routes) is in httpapi's route table,
// where it names a permission or says why it is open.
func TestEveryManifestRouteNamesAPermission(t *testing.T) {
	t.Parallel()
	table := map[string]httpapi.RouteAccess{}
	for _, ra := range httpapi.RouteTable() {
		table[ra.Pattern] = ra
	}
	n := 0
	for _, area := range [][]string{catalogRoutes, auditRoutes, historyRoutes, asOfRoutes, feedRoutes, webhookRoutes, badgeRoutes,
		factRoutes, evaluatorRoutes, scaffolderRoutes, migrationRoutes, gitRoutes, readYourWrites, authRoutes} {
		for _, route := range area {
			method, _, ok := strings.Cut(route, " ")
			if !ok || strings.ToUpper(method) != method {
				continue // a header the server honours, not a route
			}
			pattern, _, _ := strings.Cut(route, "?")
			pattern, _, _ = strings.Cut(pattern, "#")
			ra, ok := table[pattern]
			switch {
			case !ok:
				t.Errorf("%s: the manifest lists it, the route table does not", route)
			case ra.Permission == "" && ra.Open == "":
				t.Errorf("%s: names no permission and no reason to be open", route)
			}
			n++
		}
	}
	if n < 60 {
		t.Errorf("checked %d routes; the manifest lists more", n)
	}
}

func TestTheGuestsGroups(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		cfg  PermissionsConfig
		want []string
	}{
		{"the policy's platform and auditors groups", PermissionsConfig{}, []string{"group:default/platform", "group:default/auditors"}},
		{"the groups as overridden", PermissionsConfig{PlatformGroup: "group:default/sre"}, []string{"group:default/sre", "group:default/auditors"}},
		{"none", PermissionsConfig{GuestGroups: []string{}}, nil},
		{"named ones", PermissionsConfig{GuestGroups: []string{"group:default/team-a"}}, []string{"group:default/team-a"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := c.cfg.engine()
			if err != nil {
				t.Fatal(err)
			}
			g := c.cfg.guest(e)
			if g.Ref != DevActor || !slices.Equal(g.Groups, c.want) && !(len(g.Groups) == 0 && len(c.want) == 0) {
				t.Errorf("guest %+v, want %s in %v", g, DevActor, c.want)
			}
			if !strings.Contains(describeGuest(g), DevActor) {
				t.Errorf("describeGuest(%+v) = %q", g, describeGuest(g))
			}
		})
	}
	if _, err := (PermissionsConfig{PolicyFile: "testdata/none.yaml"}).engine(); err == nil {
		t.Error("a missing policy file compiles")
	}
}
