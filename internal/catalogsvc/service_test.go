package catalogsvc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/catalogsvc"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/internal/ingest"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/projector"
)

type env struct {
	svc    *catalogsvc.Service
	store  *sqlitecatalog.Store
	log    *sqlitelog.Log
	waiter projector.Waiter
	root   string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv with the service's config changed by configure.
func newEnvWith(t *testing.T, configure func(*catalogsvc.Config)) *env {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "catalog")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	log, err := sqlitelog.Open(filepath.Join(dir, "events.db"), sqlitelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlitecatalog.Open(filepath.Join(dir, "catalog.db"), sqlitecatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	proj := projector.New(event.SinglePartition(log), store, projector.Options{Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { proj.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; store.Close(); log.Close() })
	roots, err := ingest.NewRoots([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	cfg := catalogsvc.Config{Log: event.SinglePartition(log), Store: store, Waiter: proj,
		Reader: ingest.NewReader(ingest.Config{Roots: roots}), Logger: quiet, WriteTimeout: 10 * time.Second}
	if configure != nil {
		configure(&cfg)
	}
	svc := catalogsvc.New(cfg)
	return &env{svc: svc, store: store, log: log, root: root, waiter: proj}
}

func (e *env) write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(e.root, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) exists(t *testing.T, key string) bool {
	t.Helper()
	v, err := e.store.ByKeys(context.Background(), []string{key})
	if err != nil {
		t.Fatal(err)
	}
	return v[0] != nil
}

const comp = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: NAME
spec:
  type: service
  lifecycle: LIFE
  owner: team-a
`

func component(name, life string) string {
	return strings.NewReplacer("NAME", name, "LIFE", life).Replace(comp)
}

func TestRegisterRefreshAndRemove(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	file := e.write(t, "a.yaml", component("one", "production")+"---\n"+component("two", "production"))
	res, err := e.svc.RegisterLocation(ctx, "user:default/ada", "file", file, false)
	if err != nil {
		t.Fatal(err)
	}
	// Read-your-writes: the entities are readable as soon as the call returns.
	if len(res.Entities) != 2 || !e.exists(t, "component:default/one") || !e.exists(t, "component:default/two") {
		t.Fatalf("registration did not yield both entities: %d", len(res.Entities))
	}
	if _, err := e.svc.RegisterLocation(ctx, "user:default/ada", "file", file, false); err == nil {
		t.Fatal("registering the same location twice must fail")
	}
	head, _ := e.log.Head(ctx)

	// An unchanged refresh writes nothing.
	if _, err := e.svc.RefreshLocation(ctx, res.Location); err != nil {
		t.Fatal(err)
	}
	if h, _ := e.log.Head(ctx); h != head {
		t.Fatalf("an unchanged refresh wrote %d events", h-head)
	}

	// An edit upserts one entity, a vanished one is removed.
	e.write(t, "a.yaml", component("one", "deprecated"))
	if err := e.svc.Refresh(ctx, "user:default/ada", "component:default/one"); err != nil {
		t.Fatal(err)
	}
	if e.exists(t, "component:default/two") {
		t.Fatal("an entity gone from its file is still in the catalog")
	}
	evs, err := e.log.Read(ctx, head, 100)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range evs {
		types = append(types, ev.Type+" "+ev.Subject+" "+ev.Actor)
	}
	want := []string{
		"backlot.entity.upserted.v1 component:default/one location:" + res.Location.ID,
		"backlot.entity.removed.v1 component:default/two location:" + res.Location.ID,
	}
	if strings.Join(types, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(types, "\n"), strings.Join(want, "\n"))
	}

	// Removing the location removes its entities and is recorded with the actor.
	if err := e.svc.RemoveLocation(ctx, "user:default/ada", res.Location.ID); err != nil {
		t.Fatal(err)
	}
	if e.exists(t, "component:default/one") {
		t.Fatal("entity of a removed location remains")
	}
	last, _ := e.log.Read(ctx, head+2, 10)
	if len(last) != 2 || last[1].Type != string(event.TypeLocationRemoved) || last[1].Actor != "user:default/ada" {
		t.Fatalf("unexpected removal events %+v", last)
	}
}

func TestSecondLocationClaimingAnEntityGetsAConflictError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	first := e.write(t, "first.yaml", component("shared", "production"))
	second := e.write(t, "second.yaml", component("shared", "experimental")+"---\n"+component("own", "production"))
	if _, err := e.svc.RegisterLocation(ctx, "user:default/ada", "file", first, false); err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.RegisterLocation(ctx, "user:default/ada", "file", second, false)
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.store.ByKeys(ctx, []string{"component:default/shared"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(v[0].Body), `"lifecycle":"production"`) {
		t.Fatalf("the entity must stay with the first location: %s", v[0].Body)
	}
	if !e.exists(t, "component:default/own") {
		t.Fatal("the second location's own entity is missing")
	}
	errs, err := e.store.LocationErrors(ctx, res.Location.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 || errs[0].Name != "ConflictError" || errs[0].Entity != "component:default/shared" {
		t.Fatalf("want one conflict error on the second location, got %+v", errs)
	}
	if len(v[0].Status) != 1 {
		t.Fatalf("the conflict is visible on the entity too: %+v", v[0].Status)
	}
}

// TestInvalidCopyInAnotherLocationIsOnlyAConflict: a copy of an entity that
// another location owns is not read, so its own validation errors are not
// reported, only the conflict, at registration and at every refresh.
func TestInvalidCopyInAnotherLocationIsOnlyAConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	first := e.write(t, "first.yaml", component("shared", "production"))
	second := e.write(t, "second.yaml", strings.Replace(component("shared", "experimental"), "  owner: team-a\n", "", 1))
	if !strings.Contains(component("shared", "x"), "  owner: team-a\n") {
		t.Fatal("the fixture lost its owner line; the test would prove nothing")
	}
	if _, err := e.svc.RegisterLocation(ctx, "user:default/ada", "file", first, false); err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.RegisterLocation(ctx, "user:default/ada", "file", second, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		errs, err := e.store.LocationErrors(ctx, res.Location.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(errs) != 1 || errs[0].Name != "ConflictError" || errs[0].Entity != "component:default/shared" ||
			!strings.Contains(errs[0].Message, "first.yaml") {
			t.Fatalf("check %d: want only a conflict naming first.yaml, got %+v", i, errs)
		}
		if _, err := e.svc.RefreshLocation(ctx, res.Location); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDeletedEntityComesBackOnRefresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	file := e.write(t, "a.yaml", component("one", "production"))
	res, err := e.svc.RegisterLocation(ctx, "user:default/ada", "file", file, false)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := e.store.ByKeys(ctx, []string{"component:default/one"})
	if err := e.svc.DeleteEntityByUID(ctx, "user:default/ada", v[0].UID); err != nil {
		t.Fatal(err)
	}
	if e.exists(t, "component:default/one") {
		t.Fatal("not deleted")
	}
	if _, err := e.svc.RefreshLocation(ctx, res.Location); err != nil {
		t.Fatal(err)
	}
	if !e.exists(t, "component:default/one") {
		t.Fatal("the file still defines the entity: a refresh must bring it back")
	}
}

func TestRegisterRefusesTargetsOutsideRoots(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	outside := filepath.Join(t.TempDir(), "x.yaml")
	if err := os.WriteFile(outside, []byte(component("x", "production")), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.RegisterLocation(context.Background(), "user:default/ada", "file", outside, false)
	var na *ingest.NotAllowedError
	if !errors.As(err, &na) {
		t.Fatalf("want NotAllowedError, got %v", err)
	}
	locs, _ := e.store.Locations(context.Background())
	if len(locs) != 0 {
		t.Fatal("a refused location was registered")
	}
}

// TestConflictsOfTheFirstLoadStayAtEveryRefresh loads a catalog in which an
// entity is defined twice, once in two files of one location and once in a
// file of another location: the first load reports each conflict, and every
// refresh after it (which skips the unchanged files) must reach the same
// state: the same errors, the first definition kept.
func TestConflictsOfTheFirstLoadStayAtEveryRefresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	e.write(t, "a.yaml", component("twice", "production"))
	e.write(t, "b.yaml", component("twice", "experimental")+"---\n"+component("b-own", "production"))
	all := e.write(t, "all.yaml", `apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: all}
spec:
  targets: [./a.yaml, ./b.yaml]
`)
	other := e.write(t, "other.yaml", component("b-own", "deprecated"))
	first, err := e.svc.RegisterLocation(ctx, "user:default/ada", "file", all, false)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.svc.RegisterLocation(ctx, "user:default/ada", "file", other, false)
	if err != nil {
		t.Fatal(err)
	}
	state := func() string {
		t.Helper()
		var b strings.Builder
		for _, loc := range []catalogstore.Location{first.Location, second.Location} {
			errs, err := e.store.LocationErrors(ctx, loc.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, pe := range errs {
				fmt.Fprintf(&b, "%s %s %s %s\n", filepath.Base(loc.Target), pe.Name, pe.Entity, filepath.Base(pe.File))
			}
		}
		for _, key := range []string{"component:default/twice", "component:default/b-own"} {
			v, err := e.store.ByKeys(ctx, []string{key})
			if err != nil || v[0] == nil {
				t.Fatalf("%s: %v", key, err)
			}
			var body struct {
				Spec struct{ Lifecycle string } `json:"spec"`
			}
			json.Unmarshal(v[0].Body, &body)
			fmt.Fprintf(&b, "%s %s\n", key, body.Spec.Lifecycle)
		}
		return b.String()
	}
	loaded := state()
	want := "all.yaml ConflictError component:default/twice b.yaml\n" +
		"other.yaml ConflictError component:default/b-own other.yaml\n" +
		"component:default/twice production\ncomponent:default/b-own production\n"
	if loaded != want {
		t.Fatalf("the first load:\n%s\nwant\n%s", loaded, want)
	}
	for i := range 2 {
		for _, loc := range []catalogstore.Location{first.Location, second.Location} {
			if _, err := e.svc.RefreshLocation(ctx, loc); err != nil {
				t.Fatal(err)
			}
		}
		if got := state(); got != loaded {
			t.Fatalf("refresh %d reached another state than the first load:\n%s\nwant\n%s", i+1, got, loaded)
		}
	}
}

// TestDryRunOfABrokenFileNamesEachEntityAndField registers a file whose
// every document is broken, as a dry run: the refusal names the file, each
// document, entity and field.
func TestDryRunOfABrokenFileNamesEachEntityAndField(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	file := e.write(t, "broken.yaml", component("Bad_Name!", "production")+"---\n"+component("no-lifecycle", ""))
	_, err := e.svc.RegisterLocation(context.Background(), "user:default/ada", "file", file, true)
	if err == nil {
		t.Fatal("a dry run of a file with no valid entity succeeded")
	}
	for _, want := range []string{
		file + " document 1 entity component:default/Bad_Name! field metadata.name: ",
		file + " document 2 entity component:default/no-lifecycle field spec.lifecycle: ",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal lacks %q:\n%v", want, err)
		}
	}
}
