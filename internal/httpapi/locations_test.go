package httpapi

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/fault"
)

func TestLocations(t *testing.T) {
	t.Parallel()
	f := newFixture(t)

	t.Run("list", func(t *testing.T) {
		t.Parallel()
		jsonEqual(t, f.get(t, "/locations").mustStatus(t, http.StatusOK).body,
			`[{"data":{"id":"`+testLocationID+`","type":"url","target":"`+testLocationTarget+`"}}]`)
	})
	t.Run("by id with its processing errors", func(t *testing.T) {
		t.Parallel()
		jsonEqual(t, f.get(t, "/locations/"+testLocationID).mustStatus(t, http.StatusOK).body,
			`{"id":"`+testLocationID+`","type":"url","target":"`+testLocationTarget+`","errors":[
			{"file":"`+testLocationTarget+`","document":9,"entity":"component:default/broken","field":"spec.owner",
			 "name":"InputError","message":"is required"}]}`)
	})
	t.Run("unknown id", func(t *testing.T) {
		t.Parallel()
		name, msg := f.get(t, "/locations/nope").mustStatus(t, http.StatusNotFound).errorOf(t)
		if name != "NotFoundError" || msg != "Found no location with ID nope" {
			t.Errorf("got %s %q", name, msg)
		}
	})

	byEntity := []struct {
		name, path string
		status     int
		wantMsg    string
	}{
		{"owned entity", "/locations/by-entity/Component/default/checkout", http.StatusOK, ""},
		{"missing entity", "/locations/by-entity/component/default/nope", http.StatusNotFound, "found no entity for ref component:default/nope"},
		{"generated location entity", "/locations/by-entity/location/default/" + catalog.GeneratedLocationName("url", testLocationTarget),
			http.StatusNotFound, "found no origin location"},
	}
	for _, tt := range byEntity {
		t.Run("by entity: "+tt.name, func(t *testing.T) {
			t.Parallel()
			r := f.get(t, tt.path).mustStatus(t, tt.status)
			if tt.status == http.StatusOK {
				jsonEqual(t, r.body, `{"id":"`+testLocationID+`","type":"url","target":"`+testLocationTarget+`"}`)
				return
			}
			if _, msg := r.errorOf(t); !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("message %q, want %q", msg, tt.wantMsg)
			}
		})
	}
}

func TestCreateLocation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		query    string
		body     string
		wantArgs []string
		want     string
	}{
		{"type defaults to url", "", `{"target":"https://h/x.yaml"}`, []string{"url", "https://h/x.yaml", "false"},
			`{"location":{"id":"new-location","type":"url","target":"https://h/x.yaml"},
			  "entities":[{"kind":"Component","metadata":{"name":"from-location"}}]}`},
		{"dry run answers 201 with exists", "?dryRun=true", `{"type":"file","target":"/srv/catalog.yaml"}`,
			[]string{"file", "/srv/catalog.yaml", "true"},
			`{"location":{"id":"new-location","type":"file","target":"/srv/catalog.yaml"},
			  "entities":[{"kind":"Component","metadata":{"name":"from-location"}}],"exists":false}`},
		{"presence is accepted", "?dryRun=false", `{"type":"url","target":"https://h/y.yaml","presence":"optional"}`,
			[]string{"url", "https://h/y.yaml", "false"},
			`{"location":{"id":"new-location","type":"url","target":"https://h/y.yaml"},
			  "entities":[{"kind":"Component","metadata":{"name":"from-location"}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, func(c *Config) {
				c.Actor = func(r *http.Request) string { return r.Header.Get("X-Actor") }
			})
			req, _ := http.NewRequest(http.MethodPost, f.url("/locations"+tt.query), strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json; charset=utf-8")
			req.Header.Set("X-Actor", "user:default/jdoe")
			r := send(t, req).mustStatus(t, http.StatusCreated)
			jsonEqual(t, r.body, tt.want)
			call := f.writer.lastCall(t)
			if call.Method != "RegisterLocation" || call.Actor != "user:default/jdoe" || !slices.Equal(call.Args, tt.wantArgs) {
				t.Errorf("writer call %+v, want args %v", call, tt.wantArgs)
			}
		})
	}

	f := newFixture(t)
	bad := []struct {
		name, query, body, wantMsg string
	}{
		{"missing target", "", `{"type":"url"}`, "target must be a non-empty string"},
		{"empty type", "", `{"type":"","target":"x"}`, "type must be a non-empty string"},
		{"type not a string", "", `{"type":1,"target":"x"}`, "type must be a string, got number"},
		{"unknown key", "", `{"target":"x","targets":["y"]}`, `unknown key "targets"`},
		{"bad presence", "", `{"target":"x","presence":"maybe"}`, "presence must be required or optional"},
		{"bad dryRun", "?dryRun=perhaps", `{"target":"x"}`, `Invalid dryRun "perhaps"`},
		{"bad onConflict", "?onConflict=ignore", `{"target":"x"}`, `Invalid onConflict "ignore"`},
		{"empty body", "", ``, "Missing request body"},
		{"empty object", "", `{}`, "target must be a non-empty string"},
		{"trailing data", "", `{"target":"x"} {}`, "unexpected data after"},
		{"syntax error names the offset", "", `{"target": x}`, "Malformed JSON at byte offset 12"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodPost, f.url("/locations"+tt.query), strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			name, msg := send(t, req).mustStatus(t, http.StatusBadRequest).errorOf(t)
			if name != "InputError" || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("got %s %q, want InputError containing %q", name, msg, tt.wantMsg)
			}
		})
	}
	t.Run("form content type is refused", func(t *testing.T) {
		t.Parallel()
		req, _ := http.NewRequest(http.MethodPost, f.url("/locations"), strings.NewReader(`{"target":"x"}`))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		name, msg := send(t, req).mustStatus(t, http.StatusBadRequest).errorOf(t)
		if name != "InputError" || !strings.Contains(msg, "Illegal Content-Type") {
			t.Errorf("got %s %q", name, msg)
		}
	})
	t.Run("onConflict=refresh is not implemented", func(t *testing.T) {
		t.Parallel()
		name, _ := f.call(t, http.MethodPost, "/locations?onConflict=refresh", `{"target":"x"}`).
			mustStatus(t, http.StatusNotImplemented).errorOf(t)
		if name != "NotImplementedError" {
			t.Errorf("got %s", name)
		}
	})
}

func TestDeleteLocation(t *testing.T) {
	t.Parallel()
	// An Actor func that cannot tell who calls falls back to DefaultActor.
	f := newFixture(t, func(c *Config) { c.Actor = func(*http.Request) string { return "" } })
	r := f.call(t, http.MethodDelete, "/locations/"+testLocationID, "").mustStatus(t, http.StatusNoContent)
	if len(r.body) != 0 {
		t.Errorf("body %q", r.body)
	}
	call := f.writer.lastCall(t)
	if call.Method != "RemoveLocation" || call.Actor != DefaultActor || !slices.Equal(call.Args, []string{testLocationID}) {
		t.Errorf("writer call %+v", call)
	}
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.call(t, http.MethodPost, "/refresh", `{"entityRef":"Component:Default/CheckOut","authorizationToken":"t"}`).mustStatus(t, http.StatusOK)
	if len(r.body) != 0 {
		t.Errorf("body %q, want none", r.body)
	}
	if call := f.writer.lastCall(t); call.Method != "Refresh" || !slices.Equal(call.Args, []string{"component:default/CheckOut"}) {
		t.Errorf("writer call %+v", call)
	}
	for _, body := range []string{`{"entityRef":""}`, `{"other":1}`, `{"entityRef":"checkout"}`} {
		name, _ := f.call(t, http.MethodPost, "/refresh", body).mustStatus(t, http.StatusBadRequest).errorOf(t)
		if name != "InputError" {
			t.Errorf("%s: got %s", body, name)
		}
	}
}

func TestValidateEntity(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const valid = `{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"ok"},
		"spec":{"type":"service","lifecycle":"production","owner":"team-a"}}`
	t.Run("valid", func(t *testing.T) {
		t.Parallel()
		r := f.call(t, http.MethodPost, "/validate-entity", `{"entity":`+valid+`,"location":"url:https://h/catalog-info.yaml"}`).
			mustStatus(t, http.StatusOK)
		if len(r.body) != 0 {
			t.Errorf("body %q, want none as Backstage answers", r.body)
		}
	})
	invalid := []struct {
		name, body string
		want       []string // each error message must contain one, in order
	}{
		{"invalid fields are named", `{"location":"url:https://h/c.yaml","entity":{"apiVersion":"backstage.io/v1alpha1","kind":"Component",
			"metadata":{"name":"Not Valid!"},"spec":{"type":"service","lifecycle":"production"}}}`,
			[]string{"metadata.name: \"Not Valid!\" is not valid"}},
		{"missing spec field", `{"location":"url:https://h/c.yaml","entity":{"apiVersion":"backstage.io/v1alpha1","kind":"Component",
			"metadata":{"name":"x"},"spec":{"type":"service","lifecycle":"production"}}}`,
			[]string{"component:default/x: spec.owner"}},
		{"missing location", `{"entity":` + valid + `}`, []string{"location is required"}},
		{"location without type", `{"entity":` + valid + `,"location":"catalog-info.yaml"}`, []string{"Invalid location ref"}},
		{"location not a string", `{"entity":` + valid + `,"location":7}`, []string{"location must be a string"}},
		{"entity not an object", `{"entity":[1],"location":"url:x"}`, []string{"entity must be a JSON object"}},
		{"malformed JSON", `{"entity":`, []string{"Malformed JSON"}},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var body validateResponse
			f.call(t, http.MethodPost, "/validate-entity", tt.body).mustStatus(t, http.StatusBadRequest).decode(t, &body)
			if len(body.Errors) < len(tt.want) {
				t.Fatalf("errors %+v, want %d", body.Errors, len(tt.want))
			}
			for i, w := range tt.want {
				if body.Errors[i].Name == "" || !strings.Contains(body.Errors[i].Message, w) {
					t.Errorf("error %d %+v, want message containing %q", i, body.Errors[i], w)
				}
			}
		})
	}
	t.Run("writer failures keep the error body", func(t *testing.T) {
		f := newFixture(t)
		f.writer.setErr(fault.New(fault.Forbidden, "/etc", "file locations outside /srv are not allowed"))
		name, msg := f.call(t, http.MethodPost, "/validate-entity", `{"entity":`+valid+`,"location":"file:/etc/x.yaml"}`).
			mustStatus(t, http.StatusForbidden).errorOf(t)
		if name != "NotAllowedError" || !strings.Contains(msg, "not allowed") {
			t.Errorf("got %s %q", name, msg)
		}
	})
}
