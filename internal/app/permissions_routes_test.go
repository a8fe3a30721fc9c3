package app

import (
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
