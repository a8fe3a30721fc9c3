package event

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// The test types: v1 named the thing "name", v2 renamed it "title", v3 added
// "labels" (v1 and v2 events get an empty list).
const (
	testRenamedV1 Type = "backlot.test.renamed.v1"
	testRenamedV2 Type = "backlot.test.renamed.v2"
	testRenamedV3 Type = "backlot.test.renamed.v3"
)

// renamedV3 is the newest payload, the only one the fold below knows.
type renamedV3 struct {
	Title  string   `json:"title"`
	Labels []string `json:"labels"`
}

func testUpcasters(t *testing.T) *Upcasters {
	t.Helper()
	u := NewUpcasters()
	if err := u.Register(testRenamedV1, testRenamedV2, func(data json.RawMessage) (json.RawMessage, error) {
		var v1 struct {
			Name *string `json:"name"`
		}
		if err := json.Unmarshal(data, &v1); err != nil {
			return nil, err
		}
		if v1.Name == nil {
			return nil, errors.New(`data.name is missing`)
		}
		return json.Marshal(map[string]any{"title": *v1.Name})
	}); err != nil {
		t.Fatal(err)
	}
	if err := u.Register(testRenamedV2, testRenamedV3, func(data json.RawMessage) (json.RawMessage, error) {
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, err
		}
		m["labels"] = []string{}
		return json.Marshal(m)
	}); err != nil {
		t.Fatal(err)
	}
	return u
}

func mustEvent(t *testing.T, typ Type, data string) Envelope {
	t.Helper()
	e, err := New(typ, "component:default/a", json.RawMessage(data), Meta{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestOldVersionsInALogFoldAsTheNewest folds a log holding all three versions
// with a fold written for v3 alone: it dispatches on Latest and decodes
// through the registry, and sees every event as v3.
func TestOldVersionsInALogFoldAsTheNewest(t *testing.T) {
	u := testUpcasters(t)
	log := []Envelope{
		mustEvent(t, testRenamedV1, `{"name":"first"}`),
		mustEvent(t, testRenamedV2, `{"title":"second"}`),
		mustEvent(t, testRenamedV3, `{"title":"third","labels":["x"]}`),
		mustEvent(t, TypeEntityRemoved, `{"ref":"component:default/a","uid":"u","reason":"gone"}`),
	}
	stored := make([]string, len(log))
	for i, e := range log {
		stored[i] = e.Type + " " + string(e.Data)
	}
	var folded []renamedV3
	for i := range log {
		switch u.Latest(Type(log[i].Type)) {
		case testRenamedV3:
			var d renamedV3
			if err := u.Decode(&log[i], &d); err != nil {
				t.Fatal(err)
			}
			folded = append(folded, d)
		case TypeEntityRemoved:
		default:
			t.Fatalf("event %d: type %s reached no case", i, log[i].Type)
		}
	}
	want := []renamedV3{{"first", []string{}}, {"second", []string{}}, {"third", []string{"x"}}}
	if len(folded) != len(want) {
		t.Fatalf("folded %d events, want %d: %+v", len(folded), len(want), folded)
	}
	for i := range want {
		if folded[i].Title != want[i].Title || strings.Join(folded[i].Labels, ",") != strings.Join(want[i].Labels, ",") || folded[i].Labels == nil {
			t.Errorf("event %d folded as %+v, want %+v", i, folded[i], want[i])
		}
	}
	for i, e := range log {
		if got := e.Type + " " + string(e.Data); got != stored[i] {
			t.Errorf("event %d changed by reading: %s, was %s", i, got, stored[i])
		}
	}
}

func TestUpcastRewritesTypeSchemaAndDataOfACopy(t *testing.T) {
	u := testUpcasters(t)
	old := mustEvent(t, testRenamedV1, `{"name":"first"}`)
	old.Position, old.Actor = 7, "user:default/ann"
	up, err := u.Upcast(old)
	if err != nil {
		t.Fatal(err)
	}
	if up.Type != string(testRenamedV3) || up.DataSchema != testRenamedV3.SchemaURI() {
		t.Errorf("upcast to %s (%s), want %s", up.Type, up.DataSchema, testRenamedV3)
	}
	if string(up.Data) != `{"labels":[],"title":"first"}` {
		t.Errorf("upcast data %s", up.Data)
	}
	if up.ID != old.ID || up.Position != 7 || up.Actor != old.Actor || !up.Time.Equal(old.Time) {
		t.Errorf("upcast lost attributes: %+v", up)
	}
	if old.Type != string(testRenamedV1) || string(old.Data) != `{"name":"first"}` {
		t.Errorf("the original changed: %s %s", old.Type, old.Data)
	}
	same, err := u.Upcast(mustEvent(t, testRenamedV3, `{"title":"t"}`))
	if err != nil || same.Type != string(testRenamedV3) || string(same.Data) != `{"title":"t"}` {
		t.Errorf("newest version changed by Upcast: %+v, %v", same, err)
	}
}

func TestUpcastErrorsNameTheEventAndTheStep(t *testing.T) {
	u := testUpcasters(t)
	e := mustEvent(t, testRenamedV1, `{"title":"not v1"}`)
	var d renamedV3
	err := u.Decode(&e, &d)
	if err == nil {
		t.Fatal("a v1 event without data.name decoded")
	}
	for _, want := range []string{e.ID, string(testRenamedV1) + " → " + string(testRenamedV2), "data.name is missing"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	bad := mustEvent(t, testRenamedV2, `{"title":7}`)
	err = u.Decode(&bad, &d)
	if err == nil || !strings.Contains(err.Error(), "read as "+string(testRenamedV3)) || !strings.Contains(err.Error(), "title") {
		t.Errorf("decode error %v does not say the event was read as v3 and name the field", err)
	}
}

func TestRegisterRefusesWhatIsNotTheNextVersion(t *testing.T) {
	noop := func(d json.RawMessage) (json.RawMessage, error) { return d, nil }
	tests := []struct {
		name     string
		from, to Type
		fn       Upcaster
		want     string
	}{
		{"skips a version", "backlot.a.b.v1", "backlot.a.b.v3", noop, "to the next"},
		{"goes back", "backlot.a.b.v2", "backlot.a.b.v1", noop, "to the next"},
		{"another type", "backlot.a.b.v1", "backlot.a.c.v2", noop, "to the next"},
		{"no version", "backlot.a.b", "backlot.a.b.v2", noop, "no version suffix"},
		{"bad version", "backlot.a.b.vx", "backlot.a.b.v2", noop, "not a number"},
		{"nil function", "backlot.a.b.v1", "backlot.a.b.v2", nil, "nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := NewUpcasters().Register(tt.from, tt.to, tt.fn)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Register(%s, %s) = %v, want an error saying %q", tt.from, tt.to, err, tt.want)
			}
		})
	}
	u := NewUpcasters()
	if err := u.Register("backlot.a.b.v1", "backlot.a.b.v2", noop); err != nil {
		t.Fatal(err)
	}
	if err := u.Register("backlot.a.b.v1", "backlot.a.b.v2", noop); err == nil || !strings.Contains(err.Error(), "already") {
		t.Fatalf("second upcaster from v1: %v", err)
	}
}

// TestBuiltinTypesHaveOneVersionToday pins that Decode reads today's types
// as they are: every known type is its own newest version.
func TestBuiltinTypesHaveOneVersionToday(t *testing.T) {
	for _, typ := range []Type{TypeLocationRegistered, TypeLocationRemoved, TypeEntityUpserted, TypeEntityRemoved,
		TypeProcessingErrorRecorded, TypeProcessingErrorCleared, TypeFactsReported, TypeFactSourceDeclared,
		TypeBadgeAwarded, TypeBadgeRevoked, TypeCheckChanged, TypeTaskStarted, TypeTaskFinished,
		TypeMigrationChanged, TypeMigrationTargetChanged, TypePermissionDenied} {
		if !typ.Known() {
			t.Errorf("%s is not Known", typ)
		}
		if got := typ.Latest(); got != typ {
			t.Errorf("%s.Latest() = %s", typ, got)
		}
		if _, v, err := SplitVersion(typ); err != nil || v != 1 {
			t.Errorf("SplitVersion(%s) = %d, %v", typ, v, err)
		}
	}
	e := mustEvent(t, TypeEntityRemoved, `{"ref":"component:default/a","uid":"u","reason":"gone"}`)
	var d EntityRemoved
	if err := e.Decode(&d); err != nil || d.Ref != "component:default/a" || d.Reason != "gone" {
		t.Fatalf("Decode = %+v, %v", d, err)
	}
}

// TestRegisterUpcasterRefusesWhatRegisterRefuses: Backlot's own registry
// takes a test's upcaster under the rules of every registry, and a refused
// one leaves the newest version of the type as it was.
func TestRegisterUpcasterRefusesWhatRegisterRefuses(t *testing.T) {
	t.Parallel()
	const v0 Type = "backlot.location.registered.v0"
	if err := RegisterUpcaster(v0, TypeLocationRegistered, nil); err == nil || !strings.Contains(err.Error(), "nil") {
		t.Errorf("a nil upcaster: %v, want a refusal naming it", err)
	}
	noop := func(d json.RawMessage) (json.RawMessage, error) { return d, nil }
	if err := RegisterUpcaster("backlot.location.removed.v0", TypeLocationRegistered, noop); err == nil {
		t.Error("an upcaster between two types was taken")
	}
	if got := v0.Latest(); got != v0 {
		t.Errorf("after the refusals %s reads as %s", v0, got)
	}
}
