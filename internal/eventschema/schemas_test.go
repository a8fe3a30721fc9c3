package eventschema_test

import (
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventschema"
)

// eventTypes returns the values of every constant of type Type declared in
// domain/event, read from its source so a type added there without a schema
// fails the tests.
func eventTypes(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("../../domain/event/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("domain/event sources: %v", err)
	}
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Type" {
					continue
				}
				for _, v := range vs.Values {
					lit, ok := v.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Fatalf("%s: a Type constant that is not a string literal", f)
					}
					s, _ := strconv.Unquote(lit.Value)
					out = append(out, s)
				}
			}
		}
	}
	slices.Sort(out)
	if len(out) < 6 {
		t.Fatalf("found only %d event types in domain/event: %v", len(out), out)
	}
	return out
}

// schemaDoc returns the parsed schema file called name.
func schemaDoc(t *testing.T, name string) map[string]any {
	t.Helper()
	raw, ok := eventschema.Schema(name)
	if !ok {
		t.Fatalf("no schema %s", name)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

func TestEverySchemaCompilesWithItsIDAndEveryEventTypeHasOne(t *testing.T) {
	t.Parallel()
	if _, err := eventschema.New(); err != nil {
		t.Fatal(err)
	}
	names := eventschema.Names()
	for _, n := range names {
		doc := schemaDoc(t, n)
		if doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("%s: $schema %v, want draft 2020-12", n, doc["$schema"])
		}
		if doc["$id"] != eventschema.BaseURI+n {
			t.Errorf("%s: $id %v, want %s", n, doc["$id"], eventschema.BaseURI+n)
		}
	}
	types := eventTypes(t)
	if got := eventschema.Default().Types(); !slices.Equal(got, types) {
		t.Errorf("data schemas for %v, event types in domain/event %v", got, types)
	}
	for _, typ := range types {
		doc := schemaDoc(t, typ)
		if doc["$id"] != event.Type(typ).SchemaURI() {
			t.Errorf("%s: $id %v, but events of the type carry dataschema %s", typ, doc["$id"], event.Type(typ).SchemaURI())
		}
		if _, ok := eventschema.Schema(typ + ".json"); !ok {
			t.Errorf("Schema(%q) not found", typ+".json")
		}
	}
	if _, ok := eventschema.Schema("../doc.go"); ok {
		t.Error("Schema reads outside the schemas folder")
	}
}

// payloads returns, per event type, a payload with every field set and a minimal
// one with only the required fields.
func payloads(t *testing.T) map[event.Type][2]any {
	t.Helper()
	ent, err := catalog.NewEntity(map[string]any{
		"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
		"metadata": map[string]any{"name": "Checkout", "namespace": "shop", "annotations": map[string]any{"backstage.io/techdocs-ref": "dir:."}},
		"spec":     map[string]any{"type": "service", "lifecycle": "production", "owner": "team-a"},
	})
	if err != nil {
		t.Fatal(err)
	}
	body := ent.JSON()
	loc := catalog.GeneratedLocationRef("file", "/srv/catalog/all.yaml").String()
	return map[event.Type][2]any{
		event.TypeLocationRegistered: {
			event.LocationRegistered{ID: event.NewID(), Type: "file", Target: "/srv/catalog/all.yaml", EntityRef: loc},
			event.LocationRegistered{ID: "L1", Type: "url", Target: "https://git.example.com/catalog-info.yaml", EntityRef: "location:default/generated-1"},
		},
		event.TypeLocationRemoved: {
			event.LocationRemoved{ID: event.NewID(), Type: "file", Target: "/srv/catalog/all.yaml"},
			event.LocationRemoved{ID: "L1", Type: "url", Target: "x"},
		},
		event.TypeEntityUpserted: {
			event.EntityUpserted{Ref: ent.Ref().String(), UID: event.NewID(), Hash: catalog.HashJSON(body), Entity: body,
				LocationID: event.NewID(), ManagedBy: "file:/srv/catalog/all.yaml", OriginLocation: "file:/srv/catalog/all.yaml",
				Commit: &event.Commit{SHA: strings.Repeat("ab", 20), Author: "Ada", Email: "ada@example.com", Time: "2026-01-02T03:04:05Z"}},
			event.EntityUpserted{Ref: "component:default/x", UID: "u", Hash: catalog.HashJSON(body),
				Entity:     json.RawMessage(`{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"x"}}`),
				LocationID: "L1", ManagedBy: "file:/a.yaml", OriginLocation: "file:/a.yaml"},
		},
		event.TypeEntityRemoved: {
			event.EntityRemoved{Ref: ent.Ref().String(), UID: event.NewID(), LocationID: event.NewID(), Reason: "deleted through the API"},
			event.EntityRemoved{Ref: "component:default/x", UID: "u", Reason: ""},
		},
		event.TypeProcessingErrorRecorded: {
			event.ProcessingErrorRecorded{LocationID: event.NewID(), Errors: []event.ProcessingError{
				{File: "/srv/catalog/all.yaml", Document: 2, Entity: "component:default/bad", Field: "metadata.name", Name: "InputError", Message: "metadata.name is invalid"},
				{File: "/srv/catalog/all.yaml", Document: -1, Name: "InputError", Message: "not YAML"},
			}},
			event.ProcessingErrorRecorded{LocationID: "L1", Errors: []event.ProcessingError{}},
		},
		event.TypeProcessingErrorCleared: {
			event.ProcessingErrorCleared{LocationID: event.NewID()},
			event.ProcessingErrorCleared{LocationID: "L1"},
		},
		event.TypeFactsReported: {
			event.FactsReported{Entity: "component:default/checkout", Source: "ci", ObservedAt: time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC),
				Facts: json.RawMessage(`{"coverage":84.5,"mainBranchPassing":true,"lastBuild":{"id":"1742","url":"https://ci.example.com/checkout/1742"},"flakyTests":["TestCheckoutRetries"]}`)},
			event.FactsReported{Entity: "component:default/Checkout", Source: "ci", Facts: json.RawMessage(`{}`)},
		},
		event.TypeFactSourceDeclared: {
			event.FactSourceDeclared{Source: "ci", Schema: json.RawMessage(`{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",` +
				`"properties":{"coverage":{"type":"number","minimum":0,"maximum":100},"mainBranchPassing":{"type":"boolean"}},"required":["coverage"]}`)},
			event.FactSourceDeclared{Source: "ci", Schema: json.RawMessage(`null`)},
		},
		event.TypeBadgeAwarded: {
			event.BadgeChanged{Entity: "component:default/checkout", EntityHash: catalog.HashJSON(body), Owner: "group:default/team-a",
				Policy: "test-certification", Applies: true, Level: "silver", PreviousLevel: "bronze", LevelRank: 2,
				Checks: certificationChecks(true, false), Changed: []string{"has-readme", "has-codeowners", "has-tests"}, Campaigns: []string{"production-silver"}},
			event.BadgeChanged{Entity: "component:default/checkout", Policy: "test-certification", Applies: true, Level: "bronze", LevelRank: 1,
				Checks: []event.CheckOutcome{{ID: "has-owner", Level: "bronze", Passed: true}}, Changed: []string{"has-owner"}},
		},
		event.TypeBadgeRevoked: {
			event.BadgeChanged{Entity: "component:default/checkout", EntityHash: catalog.HashJSON(body), Owner: "group:default/team-a",
				Policy: "test-certification", Applies: true, Level: "bronze", PreviousLevel: "silver", LevelRank: 1,
				Checks: certificationChecks(false, false), Changed: []string{"has-readme", "has-codeowners", "has-tests"}, Campaigns: []string{"production-silver"}},
			// The entity is gone: no hash, no owner, no checks.
			event.BadgeChanged{Entity: "component:default/checkout", Policy: "test-certification", Applies: false, PreviousLevel: "gold",
				Checks: []event.CheckOutcome{}, Changed: []string{}},
		},
		event.TypeCheckChanged: {
			event.BadgeChanged{Entity: "component:default/checkout", EntityHash: catalog.HashJSON(body), Owner: "group:default/team-a",
				Policy: "test-certification", Applies: true, Level: "silver", PreviousLevel: "silver", LevelRank: 2,
				Checks: certificationChecks(true, true), Changed: []string{"coverage"}, Campaigns: []string{"production-silver"}},
			// Rated for the first time without reaching bronze.
			event.BadgeChanged{Entity: "component:default/checkout", Policy: "test-certification", Applies: true,
				Checks: []event.CheckOutcome{{ID: "has-owner", Level: "bronze", Passed: false}}, Changed: []string{"has-owner"}},
		},
		event.TypeTaskStarted: {
			event.TaskStarted{Task: "0b9c2f4e-6d1a-4c3e-9f1b-2a7d5e8c1f40", Template: "template:default/go-service", TemplateVersion: catalog.HashJSON(body),
				User: "user:default/ada", Parameters: map[string]any{"name": "payments", "port": 8080}},
			event.TaskStarted{Task: "0b9c2f4e-6d1a-4c3e-9f1b-2a7d5e8c1f40", Template: "template:default/go-service", TemplateVersion: catalog.HashJSON(body), User: "user:default/guest"},
		},
		event.TypeTaskFinished: {
			event.TaskFinished{Task: "0b9c2f4e-6d1a-4c3e-9f1b-2a7d5e8c1f40", Template: "template:default/go-service", TemplateVersion: catalog.HashJSON(body),
				User: "user:default/ada", Status: "completed", Entities: []string{"component:default/payments"},
				Output: map[string]any{"links": []any{map[string]any{"title": "Repository", "url": "file:///srv/repos/team-a/payments.git"}}}},
			event.TaskFinished{Task: "0b9c2f4e-6d1a-4c3e-9f1b-2a7d5e8c1f40", Template: "template:default/go-service", TemplateVersion: catalog.HashJSON(body),
				User: "user:default/guest", Status: "failed", Error: "catalog unavailable", FailedStep: "register"},
		},
		event.TypeMigrationChanged: {
			event.MigrationChanged{Migration: "add-codeowners-1a2b", Name: "add-codeowners", State: "stopped", Reason: "wave 1: 3 of 5 failed, over 0.2", Targets: 200, Campaign: "test-certification/silver"},
			event.MigrationChanged{Migration: "add-codeowners-1a2b", Name: "add-codeowners", State: "started"},
		},
		event.TypePermissionDenied: {
			event.PermissionDenied{Principal: "user:default/ada", Groups: []string{"group:default/team-a"}, Permission: "migration.create",
				ResourceKind: "Migration", Reason: "migration.create denied: no rule allows it", Method: "POST", Path: "/api/migrations"},
			event.PermissionDenied{Permission: "catalog.entity.read", Rule: "anonymous-denied",
				Reason: "catalog.entity.read denied by rule anonymous-denied", Method: "GET", Path: "/api/catalog/entities"},
		},
		event.TypeMigrationTargetChanged: {
			event.MigrationTargetChanged{Migration: "add-codeowners-1a2b", Entity: "component:default/checkout", Repo: "file:///srv/repos/team-a/checkout.git",
				State: "failed", Change: 3, ChangeURL: "file:///srv/repos/team-a/checkout.git#change/3", Error: "script exited 1", Output: "sh: 1: nope: not found\n",
				At: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)},
			event.MigrationTargetChanged{Migration: "add-codeowners-1a2b", Entity: "component:default/checkout", Repo: "https://github.com/acme/checkout", State: "targeted",
				At: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)},
		},
	}
}

// certificationChecks returns the verdicts of the example test-certification
// policy (levels bronze, silver, gold) on an entity at bronze, or at silver
// when silver is set; coverageBroken makes the coverage check fail with an
// evaluation error, as a missing fact does.
func certificationChecks(silver, coverageBroken bool) []event.CheckOutcome {
	out := []event.CheckOutcome{
		{ID: "has-owner", Level: "bronze", Passed: true, Message: "Every component has an owner"},
		{ID: "lifecycle-set", Level: "bronze", Passed: true, Message: "The lifecycle is experimental, production or deprecated"},
		{ID: "system-set", Level: "bronze", Passed: true, Message: "The component belongs to a system"},
		{ID: "has-readme", Level: "silver", Passed: silver, Message: "The repository has a README"},
		{ID: "has-codeowners", Level: "silver", Passed: silver, Message: "The repository has a CODEOWNERS file"},
		{ID: "has-tests", Level: "silver", Passed: silver, Message: "The repository has tests"},
		{ID: "coverage", Level: "gold", Passed: false, Message: "Line coverage is at least 80%"},
		{ID: "main-green", Level: "gold", Passed: true},
	}
	if coverageBroken {
		out[6].Error = "no such key: coverage"
	}
	return out
}

// subject is the subject each type's events carry in the tests.
func subject(typ event.Type) string {
	switch typ {
	case event.TypeEntityUpserted, event.TypeEntityRemoved:
		return "component:shop/checkout"
	case event.TypeFactsReported, event.TypeBadgeAwarded, event.TypeBadgeRevoked, event.TypeCheckChanged:
		return "component:default/checkout"
	case event.TypeFactSourceDeclared:
		return event.FactSourceSubject("ci")
	case event.TypeTaskStarted, event.TypeTaskFinished:
		return event.TaskSubject("0b9c2f4e-6d1a-4c3e-9f1b-2a7d5e8c1f40")
	case event.TypeMigrationChanged:
		return event.MigrationSubject("add-codeowners-1a2b")
	case event.TypeMigrationTargetChanged:
		return "component:default/checkout"
	case event.TypePermissionDenied:
		return event.PrincipalSubject("user:default/ada")
	}
	return "location:default/generated-" + strings.Repeat("0", 40)
}

func TestEveryEventTypeBuiltWithTheGoTypesValidates(t *testing.T) {
	t.Parallel()
	v := eventschema.Default()
	ps := payloads(t)
	for _, typ := range eventTypes(t) {
		p, ok := ps[event.Type(typ)]
		if !ok {
			t.Errorf("no test payload for %s: add one", typ)
			continue
		}
		for i, data := range p {
			name := typ + []string{" full", " minimal"}[i]
			t.Run(name, func(t *testing.T) {
				meta := event.Meta{}
				if i == 0 {
					meta = event.Meta{Actor: "user:default/guest", Commit: strings.Repeat("cd", 20), CorrelationID: event.NewID(),
						Time: time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)}
				}
				ev, err := event.New(event.Type(typ), subject(event.Type(typ)), data, meta)
				if err != nil {
					t.Fatal(err)
				}
				raw, err := json.Marshal(ev)
				if err != nil {
					t.Fatal(err)
				}
				if err := v.ValidateEnvelope(raw); err != nil {
					t.Fatalf("envelope %s: %v", raw, err)
				}
				if err := v.ValidateData(typ, ev.Data); err != nil {
					t.Fatalf("data %s: %v", ev.Data, err)
				}
				if i == 0 {
					// Every field the Go types write is declared in the schemas.
					var doc any
					json.Unmarshal(ev.Data, &doc)
					if extra := undeclared(t, typ+".json", nil, doc, ""); len(extra) > 0 {
						t.Errorf("%s data has fields its schema does not declare: %v", typ, extra)
					}
					var env map[string]any
					json.Unmarshal(raw, &env)
					props := schemaDoc(t, eventschema.EnvelopeSchema)["properties"].(map[string]any)
					for k := range env {
						if _, ok := props[k]; !ok {
							t.Errorf("the envelope has a field %s its schema does not declare", k)
						}
					}
				}
			})
		}
	}
}

// undeclared lists the object fields of doc that the schema (file name, and a
// sub-schema when sch is not nil) does not declare, where the schema lists
// properties without saying additionalProperties: the convention for objects
// whose fields are Backlot's, which the tests keep closed.
func undeclared(t *testing.T, file string, sch map[string]any, doc any, path string) []string {
	t.Helper()
	if sch == nil {
		sch = schemaDoc(t, file)
	}
	if ref, ok := sch["$ref"].(string); ok {
		target, frag, _ := strings.Cut(ref, "#")
		if target == "" {
			target = file
		}
		sub := schemaDoc(t, target)
		for _, tok := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
			if tok != "" {
				sub = sub[tok].(map[string]any)
			}
		}
		return undeclared(t, target, sub, doc, path)
	}
	var out []string
	switch d := doc.(type) {
	case map[string]any:
		props, _ := sch["properties"].(map[string]any)
		_, open := sch["additionalProperties"]
		for k, x := range d {
			ps, ok := props[k].(map[string]any)
			if !ok {
				if props != nil && !open {
					out = append(out, path+"/"+k)
				}
				continue
			}
			out = append(out, undeclared(t, file, ps, x, path+"/"+k)...)
		}
	case []any:
		if items, ok := sch["items"].(map[string]any); ok {
			for i, x := range d {
				out = append(out, undeclared(t, file, items, x, path+"/"+strconv.Itoa(i))...)
			}
		}
	}
	return out
}

// wrongType returns a JSON value of another type than x.
func wrongType(x any) any {
	if _, ok := x.(string); ok {
		return 42
	}
	return "oops"
}

// TestBrokenDocumentsFailNamingTheField removes every required field of every
// schema's full example, and gives every field a value of the wrong type, and
// checks the error names the field.
func TestBrokenDocumentsFailNamingTheField(t *testing.T) {
	t.Parallel()
	v := eventschema.Default()
	ps := payloads(t)
	type doc struct {
		schema string
		raw    []byte
		check  func([]byte) error
	}
	var docs []doc
	for _, typ := range eventTypes(t) {
		ev, err := event.New(event.Type(typ), subject(event.Type(typ)), ps[event.Type(typ)][0], event.Meta{Actor: "user:default/guest"})
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, doc{typ + ".json", ev.Data, func(b []byte) error { return v.ValidateData(typ, b) }})
		if typ == string(event.TypeEntityUpserted) {
			raw, _ := json.Marshal(ev)
			docs = append(docs, doc{eventschema.EnvelopeSchema, raw, v.ValidateEnvelope})
		}
	}
	docs = append(docs, doc{eventschema.EntityStateSchema, renderState(t)[0], v.ValidateState})
	for _, d := range docs {
		var m map[string]any
		if err := json.Unmarshal(d.raw, &m); err != nil {
			t.Fatal(err)
		}
		if err := d.check(d.raw); err != nil {
			t.Fatalf("%s: the unbroken document fails: %v", d.schema, err)
		}
		req, _ := schemaDoc(t, d.schema)["required"].([]any)
		if len(req) == 0 {
			t.Fatalf("%s requires nothing", d.schema)
		}
		for _, r := range req {
			f := r.(string)
			t.Run(d.schema+" without "+f, func(t *testing.T) {
				broken := map[string]any{}
				for k, x := range m {
					if k != f {
						broken[k] = x
					}
				}
				raw, _ := json.Marshal(broken)
				err := d.check(raw)
				var ve *eventschema.ValidationError
				if !errors.As(err, &ve) || !strings.Contains(err.Error(), "missing property '"+f+"'") {
					t.Fatalf("got %v, want a ValidationError naming %s", err, f)
				}
			})
		}
		for f, x := range m {
			if d.schema == eventschema.EnvelopeSchema && f == "data" {
				continue // any JSON; its schema is the type's
			}
			t.Run(d.schema+" with a wrong "+f, func(t *testing.T) {
				broken := map[string]any{}
				for k, y := range m {
					broken[k] = y
				}
				broken[f] = wrongType(x)
				raw, _ := json.Marshal(broken)
				err := d.check(raw)
				var ve *eventschema.ValidationError
				if !errors.As(err, &ve) || !strings.Contains(err.Error(), "/"+f+": ") {
					t.Fatalf("got %v, want a ValidationError at /%s", err, f)
				}
			})
		}
	}
}

func TestAnEnvelopeIsCheckedWithItsData(t *testing.T) {
	t.Parallel()
	v := eventschema.Default()
	ev, err := event.New(event.TypeEntityRemoved, "component:default/x", event.EntityRemoved{Ref: "component:default/x", Reason: "gone"}, event.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(ev)
	if err := v.ValidateEnvelope(raw); err == nil || !strings.Contains(err.Error(), "/data/uid: ") {
		t.Fatalf("an envelope whose data has an empty uid: %v", err)
	}
	raw = []byte(strings.Replace(string(raw), `"uid":"",`, "", 1))
	if err := v.ValidateEnvelope(raw); err == nil || !strings.Contains(err.Error(), "/data: missing property 'uid'") {
		t.Fatalf("an envelope whose data lacks uid: %v", err)
	}
	ev.Data = json.RawMessage(`{"ref":"component:default/x","uid":"u","reason":"gone"}`)
	for _, c := range []struct {
		name   string
		change func(*event.Envelope)
		want   string
	}{
		{"subject not a ref", func(e *event.Envelope) { e.Subject = "Component:default/X" }, "/subject: "},
		{"another type's dataschema", func(e *event.Envelope) { e.DataSchema = event.TypeEntityUpserted.SchemaURI() }, "/dataschema: "},
		{"no datacontenttype", func(e *event.Envelope) { e.DataContentType = "" }, "/datacontenttype: "},
		{"unversioned type", func(e *event.Envelope) { e.Type = "backlot.entity.removed" }, "/type: "},
		{"type without a schema", func(e *event.Envelope) { e.Type = "backlot.entity.renamed.v1"; e.DataSchema = "" }, "unknown event type"},
		{"bad commit", func(e *event.Envelope) { e.Commit = "main" }, "/commit: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := ev
			c.change(&e)
			raw, _ := json.Marshal(e)
			if err := v.ValidateEnvelope(raw); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error with %q", err, c.want)
			}
		})
	}
	if err := v.ValidateData("backlot.entity.renamed.v1", []byte(`{}`)); !errors.Is(err, eventschema.ErrUnknownType) {
		t.Fatalf("data of an unknown type: %v", err)
	}
	if err := v.ValidateEnvelope([]byte(`{"id":`)); err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Fatalf("broken JSON: %v", err)
	}
}

// TestSubjectsPerType checks the subject each type's events must carry: a
// canonical entity ref, or factsource:<name> for a declared fact source.
func TestSubjectsPerType(t *testing.T) {
	t.Parallel()
	v := eventschema.Default()
	ps := payloads(t)
	for _, c := range []struct {
		name    string
		typ     event.Type
		subject string
		want    string // "" for valid
	}{
		{"a fact source under its name", event.TypeFactSourceDeclared, "factsource:ci", ""},
		{"a fact source under an entity ref", event.TypeFactSourceDeclared, "component:default/checkout", "/subject: "},
		{"a fact source with an upper-case name", event.TypeFactSourceDeclared, "factsource:CI", "/subject: "},
		{"a fact source without a name", event.TypeFactSourceDeclared, "factsource:", "/subject: "},
		{"facts under an entity ref", event.TypeFactsReported, "component:default/checkout", ""},
		{"facts under a fact source", event.TypeFactsReported, "factsource:ci", "/subject: "},
		{"a badge under a display ref", event.TypeBadgeAwarded, "component:default/Checkout", "/subject: "},
		{"a badge under a fact source", event.TypeBadgeRevoked, "factsource:ci", "/subject: "},
		{"a check change under an entity ref", event.TypeCheckChanged, "component:default/checkout", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			ev, err := event.New(c.typ, c.subject, ps[c.typ][0], event.Meta{})
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(ev)
			err = v.ValidateEnvelope(raw)
			if c.want == "" && err != nil {
				t.Fatalf("subject %s: %v", c.subject, err)
			}
			if c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Fatalf("subject %s: got %v, want an error with %q", c.subject, err, c.want)
			}
			// The history topic's headers say the same.
			err = v.ValidateKafkaRecord("backlot."+eventschema.HistoryTopic, binaryMode(ev), []byte(ev.Subject), ev.Data)
			if (c.want == "") != (err == nil) {
				t.Fatalf("as a history record under %s: %v", c.subject, err)
			}
		})
	}
}
