package storetest

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/refresh"
)

// ComponentBody is a realistic component: tags, labels, annotations, links and
// relations to a group, a system, APIs and other components. Component i has
// spec.type service, website or library for i%3 == 0, 1, 2 (and lifecycle
// production, experimental, deprecated alike), tag tier-(i%3), owner
// team-(i%groups) and system system-(i%50).
func ComponentBody(i, groups int) map[string]any {
	return map[string]any{
		"apiVersion": "backstage.io/v1alpha1",
		"kind":       "Component",
		"metadata": map[string]any{
			"name":        fmt.Sprintf("service-%d", i),
			"description": fmt.Sprintf("Service number %d of the synthetic catalog.", i),
			"tags":        []any{"go", fmt.Sprintf("tier-%d", i%3), "backend"},
			"labels":      map[string]any{"tier": fmt.Sprintf("t%d", i%3), "language": "go"},
			"annotations": map[string]any{
				"github.com/project-slug":                 fmt.Sprintf("org/service-%d", i),
				"backstage.io/techdocs-ref":               "dir:.",
				catalog.AnnotationManagedByLocation:       fmt.Sprintf("file:/catalog/file-%d.yaml", i/100),
				catalog.AnnotationManagedByOriginLocation: "file:/catalog/all.yaml",
			},
			"links": []any{map[string]any{"url": fmt.Sprintf("https://dash.example/%d", i), "title": "Dashboard"}},
		},
		"spec": map[string]any{
			"type":         []string{"service", "website", "library"}[i%3],
			"lifecycle":    []string{"production", "experimental", "deprecated"}[i%3],
			"owner":        fmt.Sprintf("team-%d", i%groups),
			"system":       fmt.Sprintf("system-%d", i%50),
			"providesApis": []any{fmt.Sprintf("api-%d", i)},
			"consumesApis": []any{fmt.Sprintf("api-%d", (i+1)%1000), fmt.Sprintf("api-%d", (i+7)%1000)},
			"dependsOn":    []any{fmt.Sprintf("component:service-%d", (i+3)%1000)},
		},
	}
}

// Components makes n upserts of ComponentBody(i, 40) for i in [0, n), owned by
// location L1, with uids uid-i, in partition 0 at positions start+1 to start+n.
func Components(tb testing.TB, start int64, n int) []event.Envelope {
	tb.Helper()
	out := make([]event.Envelope, 0, n)
	for i := 0; i < n; i++ {
		e, err := catalog.NewEntity(ComponentBody(i, 40))
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, upsertInL1(tb, e, i, start+int64(i)+1))
	}
	return out
}

// upsertInL1 is the upsert of e by location L1's file:/catalog/all.yaml,
// with uid uid-i, at position pos of partition 0.
func upsertInL1(tb testing.TB, e *catalog.Entity, i int, pos int64) event.Envelope {
	tb.Helper()
	body := e.JSON()
	ev, err := event.New(event.TypeEntityUpserted, e.Ref().Key(), event.EntityUpserted{
		Ref: e.Ref().String(), UID: fmt.Sprintf("uid-%d", i), Hash: catalog.HashJSON(body), Entity: json.RawMessage(body),
		LocationID: "L1", ManagedBy: "file:/catalog/all.yaml", OriginLocation: "file:/catalog/all.yaml",
	}, event.Meta{Actor: "location:L1"})
	if err != nil {
		tb.Fatal(err)
	}
	ev.Position = pos
	return ev
}

// Partition returns a copy of evs spread over n partitions as a Kafka producer
// keyed by subject spreads them: a subject's events go to one partition, in
// their order, and positions count from 1 within each partition.
func Partition(evs []event.Envelope, n int) []event.Envelope {
	out := make([]event.Envelope, len(evs))
	next := make([]int64, n)
	for i, ev := range evs {
		h := fnv.New32a()
		h.Write([]byte(strings.ToLower(ev.Subject)))
		p := int32(h.Sum32() % uint32(n))
		next[p]++
		ev.Partition, ev.Position = p, next[p]
		out[i] = ev
	}
	return out
}

// ByPartition splits evs by partition, keeping their order.
func ByPartition(evs []event.Envelope) map[int32][]event.Envelope {
	out := map[int32][]event.Envelope{}
	for _, ev := range evs {
		out[ev.Partition] = append(out[ev.Partition], ev)
	}
	return out
}

// History makes the events of a catalog's life, in partition 0 at positions 1
// to len: a catalog of n entities (n >= 100) generated with seed (see
// writeCatalog) is registered as location L1 and ingested; 2% of its components are
// edited; one file is deleted (its entities are removed), one gets a broken
// document and one an invalid entity (errors with status items); a second
// location L2 yields its own entities, in mixed spellings, and one that L1
// already provides (a conflict); one entity is deleted through the API; a third
// location L3 is registered, ingested and removed. Events are decided as Backlot
// decides them (refresh.Decider) and carry the subjects Backlot gives them.
func History(tb testing.TB, n int, seed int64) []event.Envelope {
	tb.Helper()
	h := &history{tb: tb, state: newMemState()}
	dir := tb.TempDir()
	cat := writeCatalog(tb, filepath.Join(dir, "catalog"), n, seed)
	files := cat.files
	if len(files) < 4 {
		tb.Fatalf("storetest: generated catalog has %d entity files; History needs 4 or more", len(files))
	}
	l1files := append([]string{cat.root}, files...)

	l1 := h.register("L1", cat.root)
	h.refresh(l1, l1files)

	if refs := cat.edit(tb, max(1, n/50)); len(refs) == 0 {
		tb.Fatal("storetest: the edit changed nothing")
	}
	h.refresh(l1, l1files)

	// One file gone, one with a broken document, one with an invalid entity.
	if err := os.Remove(files[0]); err != nil {
		tb.Fatal(err)
	}
	appendFile(tb, files[1], "\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: broken-doc\n  tags: [unclosed\n")
	appendFile(tb, files[2], "\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: Not Valid!\nspec:\n  type: service\n")
	h.refresh(l1, l1files)

	// A second location: its own entities in mixed spellings and one L1 has.
	l2file := filepath.Join(dir, "l2.yaml")
	var l2 strings.Builder
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&l2, "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: Mixed-%d\n  tags: [java, %s]\n  labels:\n    lang: %s\n  annotations:\n    example.com/long: %s\nspec:\n  type: %s\n  lifecycle: %s\n  owner: group:default/%s\n",
			i, []string{"tier-a", "tier-b"}[i%2], []string{"Java", "java", "JAVA"}[i%3], strings.Repeat("x", 150+i*5), []string{"Service", "service", "SERVICE", "website"}[i%4], []string{"Production", "production", "experimental"}[i%3], []string{"Team-X", "team-x"}[i%2])
	}
	if first, ok := firstComponent(tb, files[3]); ok {
		l2.WriteString("---\n" + first)
	}
	writeFile(tb, l2file, l2.String())
	loc2 := h.register("L2", l2file)
	h.refresh(loc2, []string{l2file})

	// A delete through the API.
	victim := h.state.someEntity("L1")
	h.emit(event.TypeEntityRemoved, victim.Key, event.EntityRemoved{Ref: victim.Key, UID: victim.UID, LocationID: "L1", Reason: "deleted through the API"})

	// A location registered, read and removed.
	l3file := filepath.Join(dir, "l3.yaml")
	writeFile(tb, l3file, "apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata:\n  name: short-lived\nspec:\n  owner: team-x\n---\napiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata:\n  name: short-lived-db\nspec:\n  type: database\n  owner: team-x\n  system: short-lived\n")
	loc3 := h.register("L3", l3file)
	h.refresh(loc3, []string{l3file})
	h.refresh(loc3, []string{l3file, filepath.Join(dir, "missing.yaml")})
	for k := range h.state.Owned("L3", nil) {
		h.emit(event.TypeEntityRemoved, k.Key, event.EntityRemoved{Ref: k.Key, UID: k.UID, LocationID: "L3", Reason: "location removed"})
	}
	ref := catalog.GeneratedLocationRef("file", l3file)
	h.emit(event.TypeLocationRemoved, ref.Key(), event.LocationRemoved{ID: "L3", Type: "file", Target: l3file})
	return h.evs
}

type history struct {
	tb    testing.TB
	state *memState
	evs   []event.Envelope
	uids  int
}

func (h *history) emit(typ event.Type, subject string, data any) {
	h.tb.Helper()
	ev, err := event.New(typ, subject, data, event.Meta{Actor: "user:default/storetest"})
	if err != nil {
		h.tb.Fatal(err)
	}
	h.add([]event.Envelope{ev})
}

func (h *history) add(evs []event.Envelope) {
	for _, ev := range evs {
		ev.Position = int64(len(h.evs)) + 1
		h.evs = append(h.evs, ev)
		h.state.apply(h.tb, ev)
	}
}

func (h *history) register(id, target string) refresh.Location {
	ref := catalog.GeneratedLocationRef("file", target)
	h.emit(event.TypeLocationRegistered, ref.Key(), event.LocationRegistered{ID: id, Type: "file", Target: target, EntityRef: ref.String()})
	return refresh.Location{ID: id, Type: "file", Target: target, EntityRef: ref.String()}
}

// refresh reads the files of a location and appends what the decision makes of them.
func (h *history) refresh(loc refresh.Location, files []string) {
	h.tb.Helper()
	d := refresh.NewDecider(loc, h.state, event.Meta{}, func() string {
		h.uids++
		return fmt.Sprintf("uid-%06d", h.uids)
	})
	for _, f := range files {
		managedBy := "file:" + f
		data, err := os.ReadFile(f)
		if err != nil {
			d.Fail(event.ProcessingError{File: managedBy, Document: -1, Name: "NotFoundError", Message: "file not found"})
			continue
		}
		docs, err := catalog.ParseDocuments(managedBy, data, catalog.Limits{})
		if err != nil {
			h.tb.Fatal(err)
		}
		for _, doc := range docs {
			if doc.Err != nil {
				d.Fail(event.ProcessingError{File: managedBy, Document: doc.Index, Name: "InputError", Message: doc.Err.Error()})
				continue
			}
			ent, err := catalog.NewEntity(doc.Body)
			if err != nil {
				pe := event.ProcessingError{File: managedBy, Document: doc.Index, Name: "InputError", Message: err.Error()}
				if r, ok := catalog.RefFromBody(doc.Body); ok {
					pe.Entity = r.String()
				}
				d.Fail(pe)
				continue
			}
			evs, err := d.Observe(refresh.Observed{Entity: ent, ManagedBy: managedBy})
			if err != nil {
				h.tb.Fatal(err)
			}
			h.add(evs)
		}
	}
	evs, err := d.Finish()
	if err != nil {
		h.tb.Fatal(err)
	}
	h.add(evs)
}

func appendFile(tb testing.TB, path, s string) {
	tb.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		tb.Fatal(err)
	}
}

func writeFile(tb testing.TB, path, s string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// firstComponent returns the first Component document of a generated file.
func firstComponent(tb testing.TB, path string) (string, bool) {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	for _, doc := range strings.Split(string(data), "\n---\n") {
		doc = strings.TrimPrefix(doc, "---\n")
		if strings.Contains(doc, "\nkind: Component\n") {
			return strings.TrimSpace(doc) + "\n", true
		}
	}
	return "", false
}

// memState is the refresh.State that History's events leave.
type memState struct {
	known map[string]refresh.Known
	errs  map[string][]event.ProcessingError
}

func newMemState() *memState {
	return &memState{known: map[string]refresh.Known{}, errs: map[string][]event.ProcessingError{}}
}

func (m *memState) Lookup(key string) (refresh.Known, bool) { k, ok := m.known[key]; return k, ok }

// Owned yields the location's entities by key, so that History's events
// are the same at every run.
func (m *memState) Owned(loc string, except map[string]bool) iter.Seq[refresh.Known] {
	var out []refresh.Known
	for _, k := range m.known {
		if k.LocationID == loc && !except[k.ManagedBy] {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return slices.Values(out)
}

func (m *memState) Errors(loc string) []event.ProcessingError { return m.errs[loc] }

// someEntity returns the first entity of a location by key.
func (m *memState) someEntity(loc string) refresh.Known {
	owned := slices.Collect(m.Owned(loc, nil))
	return owned[len(owned)/2]
}

func (m *memState) apply(tb testing.TB, ev event.Envelope) {
	tb.Helper()
	switch event.Type(ev.Type).Latest() {
	case event.TypeEntityUpserted:
		var d event.EntityUpserted
		if err := ev.Decode(&d); err != nil {
			tb.Fatal(err)
		}
		m.known[strings.ToLower(ev.Subject)] = refresh.Known{Key: strings.ToLower(ev.Subject), UID: d.UID, Hash: d.Hash, LocationID: d.LocationID, ManagedBy: d.ManagedBy}
	case event.TypeEntityRemoved:
		var d event.EntityRemoved
		if err := ev.Decode(&d); err != nil {
			tb.Fatal(err)
		}
		if k, ok := m.known[strings.ToLower(d.Ref)]; ok && (d.UID == "" || k.UID == d.UID) {
			delete(m.known, strings.ToLower(d.Ref))
		}
	case event.TypeProcessingErrorRecorded:
		var d event.ProcessingErrorRecorded
		if err := ev.Decode(&d); err != nil {
			tb.Fatal(err)
		}
		m.errs[d.LocationID] = d.Errors
	case event.TypeProcessingErrorCleared:
		var d event.ProcessingErrorCleared
		if err := ev.Decode(&d); err != nil {
			tb.Fatal(err)
		}
		delete(m.errs, d.LocationID)
	case event.TypeLocationRemoved:
		var d event.LocationRemoved
		if err := ev.Decode(&d); err != nil {
			tb.Fatal(err)
		}
		delete(m.errs, d.ID)
		delete(m.known, strings.ToLower(ev.Subject))
	}
}
