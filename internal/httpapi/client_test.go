package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/internal/client"
)

func TestClient(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := client.New(f.srv.URL+"/", f.srv.Client())
	ctx := context.Background()

	t.Run("Entities", func(t *testing.T) {
		t.Parallel()
		got, err := c.Entities(ctx, []string{"kind=group", "kind=user"}, []string{"kind", "metadata.name"})
		if err != nil {
			t.Fatal(err)
		}
		var refs []string
		for _, e := range got {
			refs = append(refs, refOf(e))
			if len(e) != 2 {
				t.Errorf("entity %v has more than the fields asked for", e)
			}
		}
		sort.Strings(refs)
		if want := []string{"group:default/team-a", "group:default/team-b", "user:default/jdoe"}; !slices.Equal(refs, want) {
			t.Errorf("got %v, want %v", refs, want)
		}
	})
	t.Run("EntityByRef", func(t *testing.T) {
		t.Parallel()
		e, err := c.EntityByRef(ctx, "Component:checkout")
		if err != nil {
			t.Fatal(err)
		}
		if refOf(e) != "component:default/checkout" {
			t.Errorf("got %s", refOf(e))
		}
		_, err = c.EntityByRef(ctx, "component:default/nope")
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.Status != 404 || ae.Name != "NotFoundError" || !client.IsNotFound(err) ||
			ae.Message != "No entity named 'nope' found, with kind 'component' in namespace 'default'" {
			t.Errorf("got %#v", err)
		}
		if _, err := c.EntityByRef(ctx, "checkout"); err == nil || !strings.Contains(err.Error(), "kind") {
			t.Errorf("ref without kind: %v", err)
		}
	})
	t.Run("EntityByUID and EntitiesByRefs", func(t *testing.T) {
		t.Parallel()
		e, err := c.EntityByUID(ctx, f.uids["user:default/jdoe"])
		if err != nil || refOf(e) != "user:default/jdoe" {
			t.Fatalf("got %v, %v", e, err)
		}
		items, err := c.EntitiesByRefs(ctx, []string{"user:jdoe", "user:nobody"}, []string{"metadata.name"})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 2 || items[1] != nil || namesOf(items[:1])[0] != "jdoe" {
			t.Errorf("got %v", items)
		}
	})
	t.Run("Query pages through everything", func(t *testing.T) {
		t.Parallel()
		req := client.QueryRequest{Filters: []string{"kind=component"}, OrderFields: []string{"metadata.name,asc"}, Limit: 6, Fields: []string{"metadata.name"}}
		var names []string
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("too many pages")
			}
			p, err := c.Query(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if p.TotalItems != componentCount {
				t.Errorf("totalItems %d", p.TotalItems)
			}
			names = append(names, namesOf(p.Items)...)
			if p.PageInfo.NextCursor == "" {
				break
			}
			req = client.QueryRequest{Cursor: p.PageInfo.NextCursor, Limit: 6, Fields: []string{"metadata.name"}}
		}
		if !slices.Equal(names, componentNames()) {
			t.Errorf("got %v", names)
		}
		p, err := c.Query(ctx, client.QueryRequest{FullTextTerm: "shop", FullTextFields: []string{"metadata.title"}})
		if err != nil || len(p.Items) != 1 || namesOf(p.Items)[0] != "frontend" {
			t.Errorf("full text: %v, %v", p, err)
		}
	})
	t.Run("Facets", func(t *testing.T) {
		t.Parallel()
		got, err := c.Facets(ctx, []string{"spec.lifecycle"}, []string{"kind=component"})
		if err != nil {
			t.Fatal(err)
		}
		if fc := got["spec.lifecycle"]; len(fc) != 2 || fc[1].Value != "production" || fc[1].Count != 27 {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("Locations", func(t *testing.T) {
		t.Parallel()
		locs, err := c.Locations(ctx)
		if err != nil || len(locs) != 1 || locs[0].ID != testLocationID || locs[0].Target != testLocationTarget {
			t.Fatalf("got %+v, %v", locs, err)
		}
		info, err := c.Location(ctx, testLocationID)
		if err != nil || info.Type != "url" || len(info.Errors) != 1 || info.Errors[0].Field != "spec.owner" {
			t.Errorf("got %+v, %v", info, err)
		}
		loc, err := c.LocationByEntity(ctx, "component:billing")
		if err != nil || loc.ID != testLocationID {
			t.Errorf("by entity: %+v, %v", loc, err)
		}
	})
	t.Run("Validate", func(t *testing.T) {
		t.Parallel()
		valid, errs, err := c.Validate(ctx, map[string]any{
			"apiVersion": "backstage.io/v1alpha1", "kind": "Group",
			"metadata": map[string]any{"name": "g"}, "spec": map[string]any{"type": "team", "children": []any{}},
		}, "url:https://h/c.yaml")
		if err != nil || !valid || errs != nil {
			t.Errorf("valid entity: %v %v %v", valid, errs, err)
		}
		valid, errs, err = c.Validate(ctx, map[string]any{
			"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": map[string]any{"name": "g"},
		}, "url:https://h/c.yaml")
		if err != nil || valid || len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), "spec") {
			t.Errorf("invalid entity: %v %v %v", valid, errs, err)
		}
	})
}

func TestClientWrites(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := client.New(f.srv.URL+catalogPrefix, nil)
	ctx := context.Background()

	out, err := c.AddLocation(ctx, "", "https://h/x.yaml", true)
	if err != nil {
		t.Fatal(err)
	}
	if loc := out["location"].(map[string]any); loc["type"] != "url" || out["exists"] != false {
		t.Errorf("got %v", out)
	}
	if call := f.writer.lastCall(t); !slices.Equal(call.Args, []string{"url", "https://h/x.yaml", "true"}) {
		t.Errorf("writer call %+v", call)
	}
	if err := c.RemoveLocation(ctx, "loc/with/slashes"); err != nil {
		t.Fatal(err)
	}
	if call := f.writer.lastCall(t); call.Method != "RemoveLocation" || call.Args[0] != "loc/with/slashes" {
		t.Errorf("writer call %+v", call)
	}
	if err := c.Refresh(ctx, "component:default/checkout"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteEntity(ctx, "some-uid"); err != nil {
		t.Fatal(err)
	}

	f.writer.setErr(fault.New(fault.Forbidden, "user:default/guest", "guests may not register locations"))
	_, err = c.AddLocation(ctx, "url", "https://h/y.yaml", false)
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != 403 || ae.Name != "NotAllowedError" || ae.Message != "guests may not register locations" {
		t.Errorf("got %#v", err)
	}
	if err.Error() != "NotAllowedError (HTTP 403): guests may not register locations" {
		t.Errorf("Error() = %q", err.Error())
	}
	if _, _, err := c.Validate(ctx, map[string]any{"kind": "Group"}, "url:x"); !errors.As(err, &ae) || ae.Status != 403 {
		t.Errorf("validate with a refusing writer: %v", err)
	}
}

func TestClientNonBackstageErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad gateway from the proxy", http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	_, err := client.New(srv.URL, nil).Locations(context.Background())
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadGateway || ae.Name != "Error" || ae.Message != "bad gateway from the proxy" {
		t.Errorf("got %#v", err)
	}
}
