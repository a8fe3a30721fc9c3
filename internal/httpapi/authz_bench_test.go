package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"backlot.dev/backlot/policies/permission"
)

// BenchmarkEntityPageUnderPolicies times one by-query page of 20 with its
// total, through the whole handler, under the default policy (one decision
// for the list) and under a policy that decides each entity (every matching
// entity decided for the total, then the page's).
func BenchmarkEntityPageUnderPolicies(b *testing.B) {
	p, err := permission.Parse("hide.yaml", []byte(hidingPolicy))
	if err != nil {
		b.Fatal(err)
	}
	hiding, err := permission.Compile(p, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		engine *permission.Engine
	}{{"default", nil}, {"per-entity", hiding}} {
		b.Run(c.name, func(b *testing.B) {
			f := newFixture(b, func(cfg *Config) { cfg.Permissions = c.engine })
			h := f.srv.Config.Handler
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/catalog/entities/by-query?limit=20&orderField=metadata.name,asc", nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

// BenchmarkAuthorizedDelete times the decision of a route resolved from the
// catalog (an entity by uid, its owner group's members) and denied, with the
// denial recorded nowhere: the cost every guarded write adds.
func BenchmarkAuthorizedDelete(b *testing.B) {
	f := newFixture(b, func(cfg *Config) { cfg.Guest = &authPrincipalTeamB })
	h := f.srv.Config.Handler
	path := "/api/catalog/entities/by-uid/" + f.uids["component:default/checkout"]
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodDelete, path, nil))
		if rec.Code != http.StatusForbidden {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
