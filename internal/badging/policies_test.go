package badging_test

import (
	"context"
	"errors"
	"testing"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/policies"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/catalogstore"
)

// policyCatalog answers every query with its entities, whatever the filter.
type policyCatalog struct {
	catalogstore.Reader
	items []catalogstore.EntityView
}

func (c policyCatalog) Query(context.Context, catalogstore.PageQuery) (catalogstore.Page, error) {
	return catalogstore.Page{Items: append([]catalogstore.EntityView(nil), c.items...)}, nil
}

func policyView(key, body string) catalogstore.EntityView {
	return catalogstore.EntityView{Key: key, Ref: key, Body: []byte(body)}
}

const (
	goodPolicy = `{"apiVersion":"backlot.dev/v1alpha1","kind":"Policy","metadata":{"name":"owned","title":"Owned"},
		"spec":{"selector":"true","levels":["basic"],"checks":[{"id":"owner","level":"basic","rule":"has(entity.spec.owner)"}]}}`
	brokenPolicy = `{"apiVersion":"backlot.dev/v1alpha1","kind":"Policy","metadata":{"name":"broken"},
		"spec":{"selector":"true","levels":["basic"],"checks":[{"id":"good","level":"basic","rule":"true"},{"id":"typo","level":"basic","rule":"entity.spec.owner =="}]}}`
)

func TestPoliciesByID(t *testing.T) {
	t.Parallel()
	ps := badging.Policies{Catalog: policyCatalog{items: []catalogstore.EntityView{
		policyView("policy:team/owned", goodPolicy), policyView("policy:default/owned", goodPolicy), policyView("policy:default/broken", brokenPolicy)}}}
	p, err := ps.ByID(context.Background(), "owned")
	if err != nil || p.Metadata.Name != "owned" || p.Metadata.Title != "Owned" {
		t.Fatalf("ByID(owned) = %+v, %v", p, err)
	}
	_, err = ps.ByID(context.Background(), "nope")
	if !errors.Is(err, fault.NotFound) || err.Error() != `No policy "nope"` || fault.ValueOf(err) != "nope" {
		t.Errorf("ByID(nope) = %v (%v, value %q), want fault.NotFound naming it", err, fault.Of(err), fault.ValueOf(err))
	}
	bad := badging.Policies{Catalog: policyCatalog{items: []catalogstore.EntityView{policyView("policy:default/x", `{"kind":`)}}}
	if _, err := bad.ByID(context.Background(), "x"); !errors.Is(err, fault.Invalid) || fault.ValueOf(err) != "policy:default/x" {
		t.Errorf("ByID of a policy that does not parse = %v, want fault.Invalid naming policy:default/x", err)
	}
}

func TestPoliciesListNamesEachProblem(t *testing.T) {
	t.Parallel()
	stats := badging.Stats{}
	ps := badging.Policies{Catalog: policyCatalog{items: []catalogstore.EntityView{
		policyView("policy:default/owned", goodPolicy), policyView("policy:default/broken", brokenPolicy), policyView("policy:default/x", `{"kind":`)}},
		Stats: func() badging.Stats { return stats }}
	list, err := ps.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if list.Evaluator == nil || len(list.Items) != 3 {
		t.Fatalf("List = %+v, want three items and the evaluator's stats", list)
	}
	good, broken, x := list.Items[0], list.Items[1], list.Items[2]
	if good.ID != "owned" || good.Title != "Owned" || good.Checks != 1 || len(good.Errors) != 0 || good.Errors == nil {
		t.Errorf("good policy = %+v, want id owned, one check, an empty error list", good)
	}
	if broken.ID != "broken" || broken.Checks != 2 || len(broken.Errors) != 1 || broken.Errors[0].Check != "typo" || broken.Errors[0].Line == 0 {
		t.Errorf("broken policy = %+v, want one error naming check typo and its line", broken)
	}
	if x.ID != "" || x.Ref != "policy:default/x" || len(x.Errors) != 1 || x.Errors[0].Message == "" {
		t.Errorf("unparsable policy = %+v, want its ref and one error", x)
	}
	if empty, _ := (badging.Policies{Catalog: policyCatalog{}}).List(context.Background()); empty.Items == nil || empty.Evaluator != nil {
		t.Errorf("List of no policies = %+v, want empty items and no evaluator", empty)
	}
}

func TestVerdictOf(t *testing.T) {
	t.Parallel()
	titled := &policies.Policy{}
	titled.Metadata.Name, titled.Metadata.Title = "owned", "Owned"
	untitled := &policies.Policy{}
	untitled.Metadata.Name = "docs"
	bs := []badges.Badge{{Policy: "owned", Level: "gold", Rank: 3}, {Policy: "other", Level: "x", Rank: 1}, {Policy: "docs", Level: "", Rank: 0}}
	for _, tc := range []struct {
		name string
		p    *policies.Policy
		bs   []badges.Badge
		want badging.Verdict
	}{
		{"rated", titled, bs, badging.Verdict{Label: "Owned", Message: "gold", Rank: 3}},
		{"no level", untitled, bs, badging.Verdict{Label: "docs", Message: badging.NoLevel, Rank: 0}},
		{"not rated", titled, bs[1:], badging.Verdict{Label: "Owned", Message: "not rated", Rank: -1}},
	} {
		if got := badging.VerdictOf(tc.p, tc.bs); got != tc.want {
			t.Errorf("%s: VerdictOf = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
