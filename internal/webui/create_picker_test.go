package webui

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/policies/permission"
)

// pickerFixture is a portal over 1,200 components (service-0 …
// service-1199), the group team-0, the user ada, the API api-0 and the
// template svc, whose form has an OwnerPicker and an EntityPicker of
// components.
func pickerFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	f := newFixture(t, 1200, cfg)
	if err := f.cat.Apply(context.Background(), []event.Envelope{pickerTemplate(t, 1300)}); err != nil {
		t.Fatal(err)
	}
	return f
}

// pick asks GET /create/picker and returns its options' values and labels.
func pick(t *testing.T, f *fixture, query string) (values, labels []string, more bool) {
	t.Helper()
	code, body := f.get(t, "/create/picker?"+query)
	if code != 200 {
		t.Fatalf("GET /create/picker?%s: %d %s", query, code, excerpt(body, "<main"))
	}
	var ans struct {
		Options []struct{ Value, Label string }
		More    bool
	}
	if err := json.Unmarshal([]byte(body), &ans); err != nil {
		t.Fatalf("GET /create/picker?%s: %v in %s", query, err, body)
	}
	for _, o := range ans.Options {
		values = append(values, o.Value)
		labels = append(labels, o.Label)
	}
	return values, labels, ans.More
}

// TestThePickerFindsEntitiesByTheStartOfTheirName asks the picker's
// endpoint as the form's script does: it finds an entity among 1,200 by the
// start of its name (typed as a name or as a ref), in name order, offers at
// most pickerLimit and says when more match, searches a template's kinds or
// any, and refuses what it cannot bound.
func TestThePickerFindsEntitiesByTheStartOfTheirName(t *testing.T) {
	t.Parallel()
	f := pickerFixture(t, Config{})
	want := []string{"component:default/service-117"}
	for i := range 10 {
		want = append(want, "component:default/service-117"+strconv.Itoa(i))
	}
	for _, q := range []string{"kind=component&q=service-117", "kind=component&q=Service-117", "kind=component&q=component:default/service-117", "kind=Component&kind=group&q=default/service-117"} {
		got, _, more := pick(t, f, q)
		if strings.Join(got, " ") != strings.Join(want, " ") || more {
			t.Errorf("%s: offers %v (more %v), want %v", q, got, more, want)
		}
	}

	// service-1 starts 311 names: the first 50 in name order, and more.
	got, _, more := pick(t, f, "kind=component&q=service-1")
	if len(got) != pickerLimit || !more {
		t.Fatalf("service-1: %d options (more %v), want %d and more", len(got), more, pickerLimit)
	}
	for i, v := range got {
		if !strings.HasPrefix(v, "component:default/service-1") || i > 0 && got[i-1] >= v {
			t.Fatalf("service-1: option %d is %s after %s: not a match in name order", i, v, got[max(i-1, 0)])
		}
	}
	if got[0] != "component:default/service-1" || got[1] != "component:default/service-10" || got[2] != "component:default/service-100" {
		t.Errorf("service-1: the first options are %v", got[:3])
	}

	// An owner picker's kinds, and any kind, with titles in the labels.
	if got, labels, _ := pick(t, f, "kind=group&kind=user&q=a"); strings.Join(got, " ") != "user:default/ada" || labels[0] != "ada (user)" {
		t.Errorf("groups and users starting with a: %v %v", got, labels)
	}
	if got, labels, _ := pick(t, f, "q=api-"); strings.Join(got, " ") != "api:default/api-0" || labels[0] != "Orders API · api-0 (api)" {
		t.Errorf("any kind starting with api-: %v %v", got, labels)
	}
	if got, _, more := pick(t, f, "kind=component&q=zz"); len(got) != 0 || more {
		t.Errorf("zz: %v (more %v), want nothing", got, more)
	}

	for _, q := range []string{strings.Repeat("kind=a&", maxPickerKinds+1), "kind=&q=a", "q=" + strings.Repeat("a", maxPickerPrefix+1)} {
		if code, _ := f.get(t, "/create/picker?"+q); code != 400 {
			t.Errorf("GET /create/picker?%.40s…: %d, want 400", q, code)
		}
	}
}

// TestThePickerFieldOffersTheMatchesOfItsValue renders the template's form:
// each picker is a text field with a datalist of at most pickerLimit
// entities, those whose name starts with the field's value, and names the
// endpoint its script asks as the user types.
func TestThePickerFieldOffersTheMatchesOfItsValue(t *testing.T) {
	t.Parallel()
	f := pickerFixture(t, Config{})
	options := func(body, id string) []string {
		t.Helper()
		m := regexp.MustCompile(`(?s)<datalist id="` + id + `-list">(.*?)</datalist>`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no datalist %s-list in:\n%s", id, excerpt(body, id))
		}
		var out []string
		for _, o := range regexp.MustCompile(`<option value="([^"]*)">`).FindAllStringSubmatch(m[1], -1) {
			out = append(out, o[1])
		}
		return out
	}
	code, body := f.get(t, "/create/templates/default/svc")
	if code != 200 {
		t.Fatalf("form: %d", code)
	}
	if got := options(body, "f-dependsOn"); len(got) != pickerLimit || got[0] != "component:default/service-0" {
		t.Errorf("an empty entity picker offers %d entities from %v, want the first %d components", len(got), got[:min(len(got), 1)], pickerLimit)
	}
	for _, attr := range []string{`data-picker-url="/create/picker?kind=component"`, `data-picker-url="/create/picker?kind=group&amp;kind=user"`, `role="status"`} {
		if !strings.Contains(body, attr) {
			t.Errorf("the form lacks %s:\n%s", attr, excerpt(body, "data-picker"))
		}
	}
	if got := options(body, "f-owner"); strings.Join(got, " ") != "user:default/ada group:default/team-0" {
		t.Errorf("the owner picker offers %v, want ada and team-0 in name order", got)
	}

	_, body = f.get(t, "/create/templates/default/svc?dependsOn=service-119")
	if got := options(body, "f-dependsOn"); len(got) != 11 || got[0] != "component:default/service-119" || got[10] != "component:default/service-1199" {
		t.Errorf("a picker whose value is service-119 offers %v, want service-119 and service-1190 … 1199", got)
	}
}

// TestThePickerNeedsCatalogRead: the picker's endpoint lists catalog
// entities, so it asks for catalog.entity.read.
func TestThePickerNeedsCatalogRead(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 3, Config{Decide: func(_ permission.Principal, a permission.Permission, _ permission.Resource) permission.Decision {
		if a == permission.CatalogEntityRead {
			return permission.Decision{Reason: "no catalog"}
		}
		return permission.Decision{Allowed: true}
	}})
	if code, body := f.get(t, "/create/picker?q=service"); code != 403 || strings.Contains(body, "service-1") {
		t.Errorf("GET /create/picker without catalog.entity.read: %d, want 403 and no entity", code)
	}
}
