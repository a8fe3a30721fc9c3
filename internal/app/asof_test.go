package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
)

// sortedEntities renders entities by ref, for comparing two catalogs whose
// read models store them in different orders.
func sortedEntities(t *testing.T, raw []json.RawMessage) string {
	t.Helper()
	var lines []string
	for _, r := range raw {
		var m map[string]any
		if err := json.Unmarshal(r, &m); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(m)
		lines = append(lines, string(b))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// replayUpTo folds the log's events up to pos into a fresh read model and
// returns its entities as the API renders them.
func replayUpTo(t *testing.T, log *sqlitelog.Log, pos int64) string {
	t.Helper()
	store, err := sqlitecatalog.Open(filepath.Join(t.TempDir(), "replay.db"), sqlitecatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	evs, err := log.Read(context.Background(), 0, int(pos))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Apply(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	page, err := store.Query(context.Background(), catalogstore.PageQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var raw []json.RawMessage
	for _, v := range page.Items {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b)
	}
	return sortedEntities(t, raw)
}

// TestAsOfEqualsReplayAtEveryInstant is the property test of the asOf
// parameter: for random sequences of registrations, edits and removals, the
// catalog the API answers asOf every recorded instant (as a log position and as
// a time) equals the catalog obtained by replaying the log up to that instant.
func TestAsOfEqualsReplayAtEveryInstant(t *testing.T) {
	for _, seed := range []uint64{1, 7, 2026} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			dir := t.TempDir()
			data := t.TempDir()
			d := startDev(t, app.DevConfig{DataDir: data, Roots: []string{dir}})
			defer d.Close()
			base := "http://" + d.Addr()
			write := func(file string, names []int, owner string) {
				var docs []string
				for _, n := range names {
					docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: c%d\n  tags: [t%d]\nspec:\n  type: service\n  lifecycle: production\n  owner: %s\n  dependsOn: [component:c%d]\n", n, rng.IntN(3), owner, rng.IntN(12)))
				}
				os.WriteFile(filepath.Join(dir, file), []byte(strings.Join(docs, "---\n")), 0o644)
			}
			locs := map[string]string{} // file → location id
			var instants []int64
			for step := range 14 {
				file := fmt.Sprintf("f%d.yaml", rng.IntN(3))
				var names []int
				for n := range 12 {
					// Each file holds its own names, so no two locations claim one entity.
					if n%3 == int(file[1]-'0') && rng.IntN(2) == 0 {
						names = append(names, n)
					}
				}
				owner := fmt.Sprintf("team-%d", rng.IntN(4))
				var code int
				var token string
				switch id, ok := locs[file]; {
				case !ok:
					write(file, names, owner)
					var loc struct {
						Location struct{ ID string } `json:"location"`
					}
					code, token = postJSON(t, base+"/api/catalog/locations", map[string]string{"type": "file", "target": filepath.Join(dir, file)}, &loc)
					locs[file] = loc.Location.ID
				case rng.IntN(4) == 0:
					req, _ := http.NewRequest("DELETE", base+"/api/catalog/locations/"+id, nil)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					code, token = resp.StatusCode, resp.Header.Get(event.TokenHeader)
					delete(locs, file)
				default:
					write(file, names, owner)
					code, token = postJSON(t, base+"/api/catalog/refresh", map[string]string{"entityRef": "location:default/generated-" + generatedName(t, base, id)}, nil)
				}
				if code >= 300 {
					t.Fatalf("step %d: %d", step, code)
				}
				if p, err := event.ParsePositions(token); err == nil && p[0] > 0 {
					instants = append(instants, p[0])
				}
			}
			if len(instants) < 8 {
				t.Fatalf("only %d recorded instants", len(instants))
			}
			log, err := sqlitelog.Open(filepath.Join(data, "events.db"), sqlitelog.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer log.Close()
			distinct := map[string]bool{}
			defer func() { t.Logf("%d instants, %d distinct catalogs", len(instants), len(distinct)) }()
			for _, pos := range instants {
				want := replayUpTo(t, log, pos)
				distinct[want] = true
				var got []json.RawMessage
				if code := get(t, d, "/api/catalog/entities?asOf="+fmt.Sprint(pos), &got); code != http.StatusOK {
					t.Fatalf("asOf=%d: %d", pos, code)
				}
				if g := sortedEntities(t, got); g != want {
					t.Fatalf("asOf=%d differs from the replay:\n%s", pos, firstDiff(want, g))
				}
				// The same instant as a time: the time of the event at pos.
				evs, _ := log.Read(context.Background(), pos-1, 1)
				at := evs[0].Time.Format("2006-01-02T15:04:05.999999999Z07:00")
				got = nil
				get(t, d, "/api/catalog/entities?asOf="+url.QueryEscape(at), &got)
				if g := sortedEntities(t, got); g != want {
					t.Fatalf("asOf=%s (the time of position %d) differs from the replay:\n%s", at, pos, firstDiff(want, g))
				}
			}
		})
	}
}

// generatedName returns the name of a location's generated Location entity.
func generatedName(t *testing.T, base, id string) string {
	t.Helper()
	var loc struct {
		Target string `json:"target"`
	}
	resp, err := http.Get(base + "/api/catalog/locations/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	json.NewDecoder(resp.Body).Decode(&loc)
	var ents []struct {
		Metadata struct{ Name string }
	}
	resp2, err := http.Get(base + "/api/catalog/entities?filter=kind=location,spec.target=" + url.QueryEscape(loc.Target))
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	json.NewDecoder(resp2.Body).Decode(&ents)
	if len(ents) != 1 {
		t.Fatalf("location %s (%s): %d Location entities", id, loc.Target, len(ents))
	}
	return strings.TrimPrefix(ents[0].Metadata.Name, "generated-")
}

// postJSON posts body and returns the status and the positions header.
func postJSON(t *testing.T, u string, body, out any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(u, "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode, resp.Header.Get(event.TokenHeader)
}
