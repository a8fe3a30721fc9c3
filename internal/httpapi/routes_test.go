package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestEveryAreaIsRouted sends one request to every route of every API area
// and fails when the server answers that no route serves it (the catch-all
// 404 or a 405), so moving an area's routes cannot drop one unnoticed. The
// fixture has no optional services, so many answer 501 or 503: that is a
// route that exists.
func TestEveryAreaIsRouted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	routes := []string{
		"GET /api/catalog/entities",
		"GET /api/catalog/entities/by-query",
		"GET /api/catalog/entities/by-uid/u",
		"DELETE /api/catalog/entities/by-uid/u",
		"GET /api/catalog/entities/by-name/component/default/x",
		"POST /api/catalog/entities/by-refs",
		"GET /api/catalog/entity-facets?facet=kind",
		"POST /api/catalog/refresh",
		"POST /api/catalog/validate-entity",
		"POST /api/catalog/entities/by-query",
		"POST /api/catalog/entity-facets",
		"GET /api/catalog/entities/by-name/component/default/x/ancestry",
		"GET /api/catalog/locations",
		"POST /api/catalog/locations",
		"GET /api/catalog/locations/l",
		"DELETE /api/catalog/locations/l",
		"GET /api/catalog/locations/by-entity/component/default/x",
		"POST /api/catalog/locations/by-query",
		"PUT /api/catalog/locations/l",
		"POST /api/catalog/analyze-location",
		"GET /api/audit/events",
		"POST /api/audit/verify",
		"GET /api/audit/entities/component/default/x/history",
		"GET /api/audit/diff?from=1&to=2",
		"GET /api/events",
		"GET /api/events/stream",
		"GET /api/events/asyncapi.json",
		"GET /api/events/schemas/entity-upserted",
		"GET /api/events/subscriptions",
		"POST /api/events/subscriptions",
		"GET /api/events/subscriptions/s",
		"DELETE /api/events/subscriptions/s",
		"GET /api/events/subscriptions/s/dead-letters",
		"POST /api/events/subscriptions/s/dead-letters/e/replay",
		"GET /api/policies",
		"GET /api/policies/p",
		"GET /api/policies/p/results",
		"GET /api/policies/p/history",
		"GET /api/policies/p/campaigns",
		"GET /api/policies/entities/component/default/x",
		"GET /api/badges/component/default/x/p.svg",
		"POST /api/facts",
		"GET /api/facts/entities/component/default/x",
		"GET /api/facts/sources/ci",
		"PUT /api/facts/sources/ci",
		"GET /api/scaffolder/v2/actions",
		"GET /api/scaffolder/v2/templates/default/template/t/parameter-schema",
		"POST /api/scaffolder/v2/tasks",
		"GET /api/scaffolder/v2/tasks",
		"GET /api/scaffolder/v2/tasks/t",
		"GET /api/scaffolder/v2/tasks/t/eventstream",
		"GET /api/scaffolder/v2/tasks/t/events",
		"POST /api/scaffolder/v2/tasks/t/cancel",
		"POST /api/scaffolder/v2/tasks/t/retry",
		"POST /api/scaffolder/v2/tasks/t/approval",
		"POST /api/scaffolder/v2/dry-run",
		"POST /api/migrations",
		"GET /api/migrations",
		"GET /api/migrations/m",
		"POST /api/migrations/m/pause",
		"POST /api/migrations/m/resume",
		"POST /api/migrations/m/cancel",
		"POST /api/migrations/m/retry-failed",
		"POST /api/migrations/m/close-prs",
		"GET /api/git/repos",
		"GET /api/git/repos/o/n/changes",
		"POST /api/git/repos/o/n/changes/1/merge",
		"POST /api/git/repos/o/n/changes/1/close",
		"POST /api/git/hooks/github",
		"GET /healthz",
		"GET /readyz",
		"GET /metrics",
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	for _, route := range routes {
		method, path, _ := strings.Cut(route, " ")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var body *strings.Reader
		if method == http.MethodPost || method == http.MethodPut {
			body = strings.NewReader("{}")
		} else {
			body = strings.NewReader("")
		}
		req, err := http.NewRequestWithContext(ctx, method, f.srv.URL+path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			cancel()
			t.Errorf("%s: %v", route, err)
			continue
		}
		var eb errorBody
		if resp.StatusCode == http.StatusNotFound {
			_ = json.NewDecoder(resp.Body).Decode(&eb)
		}
		resp.Body.Close()
		cancel()
		if resp.StatusCode == http.StatusMethodNotAllowed || strings.HasPrefix(eb.Error.Message, "No route for") {
			t.Errorf("%s: %d %s: no route serves it", route, resp.StatusCode, eb.Error.Message)
		}
	}
}
