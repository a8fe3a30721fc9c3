package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/internal/client"
	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
	"backlot.dev/backlot/internal/statefeed"
	"backlot.dev/backlot/internal/testenv/pgtest"
)

// addrer is a running server of either mode.
type addrer interface{ Addr() string }

// startServe starts `backlot serve` in-process with cfg's roles (all by default)
// on the given brokers and database, and waits for its catalogs.
func startServe(t *testing.T, cfg app.ServeConfig) *app.Server {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	cfg.Logger = quietLogger()
	cfg.ReplicationFactor = 1
	if cfg.Partitions == 0 {
		cfg.Partitions = 6
	}
	if cfg.RefreshInterval == 0 {
		cfg.RefreshInterval = time.Hour
	}
	cfg.DataDir = t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := app.StartServe(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	select {
	case <-s.Loaded():
	case <-time.After(90 * time.Second):
		t.Fatal("catalogs not loaded within 90s")
	}
	if err := s.LoadErr(); err != nil {
		t.Fatal(err)
	}
	return s
}

// servedEntities returns every entity the server answers, by ref, without the
// fields that differ between two servers of the same catalog (uid and etag).
func servedEntities(t *testing.T, d addrer) map[string]string {
	t.Helper()
	var ents []map[string]any
	if code := get(t, d, "/api/catalog/entities", &ents); code != http.StatusOK {
		t.Fatalf("GET /entities: %d", code)
	}
	out := map[string]string{}
	for _, e := range ents {
		md := e["metadata"].(map[string]any)
		delete(md, "uid")
		delete(md, "etag")
		ns, _ := md["namespace"].(string)
		ref := strings.ToLower(e["kind"].(string) + ":" + ns + "/" + md["name"].(string))
		b, _ := json.Marshal(e)
		out[ref] = string(b)
	}
	return out
}

// TestServeAnswersLikeDev ingests the example catalog with every production role
// on Kafka and PostgreSQL and checks the API answers exactly as backlot dev does,
// and that the compacted state topic holds every entity as the API returns it.
func TestServeAnswersLikeDev(t *testing.T) {
	cat := examplesCatalog(t)
	brokers := kafkatest.Brokers(t)
	prefix := kafkatest.TopicPrefix(t)
	s := startServe(t, app.ServeConfig{KafkaBrokers: brokers, TopicPrefix: prefix, Group: prefix + "projector",
		PostgresURL: pgtest.URL(t), Catalogs: []string{cat}})
	d := startDev(t, app.DevConfig{DataDir: t.TempDir(), Catalogs: []string{cat}})
	defer d.Close()

	want, got := servedEntities(t, d), servedEntities(t, s)
	if len(got) != len(want) || len(want) < 50 {
		t.Fatalf("serve answers %d entities, dev %d", len(got), len(want))
	}
	for ref, w := range want {
		if got[ref] != w {
			t.Errorf("%s differs:\n serve %s\n dev   %s", ref, got[ref], w)
		}
	}
	for _, path := range []string{
		"/api/catalog/entity-facets?facet=kind&facet=spec.type&facet=metadata.tags",
		"/api/catalog/entities/by-query?filter=kind=component&orderField=metadata.name,desc&limit=7&fields=metadata.name,kind",
		"/api/catalog/entities?filter=relations.ownedBy=group:default/team-checkout&fields=metadata.name",
	} {
		var a, b any
		get(t, d, path, &a)
		get(t, s, path, &b)
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Errorf("%s:\n serve %s\n dev   %s", path, jb, ja)
		}
	}

	// History on PostgreSQL: the entity's one version, and the catalog as of now
	// equal to the live one.
	var hist struct {
		Items []struct {
			Version int `json:"version"`
		} `json:"items"`
	}
	if code := get(t, s, "/api/audit/entities/component/default/tracking-service/history", &hist); code != http.StatusOK || len(hist.Items) != 1 {
		t.Fatalf("history on serve: %d, %+v", code, hist)
	}
	var live, asOf []json.RawMessage
	get(t, s, "/api/catalog/entities?filter=kind=component", &live)
	if code := get(t, s, "/api/catalog/entities?filter=kind=component&asOf="+time.Now().UTC().Format(time.RFC3339Nano), &asOf); code != http.StatusOK || len(asOf) != len(live) || len(live) == 0 {
		t.Fatalf("asOf now on serve: %d, %d entities, live %d", code, len(asOf), len(live))
	}

	// The audit log on Kafka: one entity's events, pages across partitions, and
	// a verification of the history against the log.
	c := client.New("http://"+s.Addr(), nil)
	evs, _, err := c.AuditEvents(t.Context(), client.EventQuery{Subject: "component:default/tracking-service", Limit: 10})
	if err != nil || len(evs) != 1 || evs[0].Event.Type != "backlot.entity.upserted.v1" {
		t.Fatalf("audit events of tracking-service on serve: %+v, %v", evs, err)
	}
	seen := map[string]bool{}
	q := client.EventQuery{Types: []string{"backlot.entity.upserted.v1"}, Limit: 7}
	for {
		page, next, err := c.AuditEvents(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page {
			if seen[it.Event.ID] {
				t.Fatalf("event %s on two pages", it.Event.ID)
			}
			seen[it.Event.ID] = true
		}
		if next == "" {
			break
		}
		q.After, _ = event.ParsePositions(next)
	}
	if want := len(servedEntities(t, s)) - 1; len(seen) != want {
		t.Fatalf("paging the upserts found %d events, want one per entity but the generated location (%d)", len(seen), want)
	}
	if rep, err := c.AuditVerify(t.Context(), nil, nil); err != nil || !rep.OK() || rep.Events < 51 {
		t.Fatalf("verify on serve: %+v, %v", rep, err)
	}

	// The state topic: read it from the start; the last value of every key is
	// the entity as the API returns it now.
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: prefix + statefeed.Topic, GroupID: prefix + "reader",
		StartOffset: kafka.FirstOffset, MaxWait: 200 * time.Millisecond})
	defer r.Close()
	state := map[string][]byte{}
	var apiEnts []map[string]any
	get(t, s, "/api/catalog/entities", &apiEnts)
	apiByRef := map[string]string{}
	for _, e := range apiEnts {
		md := e["metadata"].(map[string]any)
		b, _ := json.Marshal(e)
		apiByRef[strings.ToLower(e["kind"].(string)+":"+md["namespace"].(string)+"/"+md["name"].(string))] = string(b)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		matched := 0
		for ref, v := range apiByRef {
			var m map[string]any
			if json.Unmarshal(state[ref], &m) == nil {
				b, _ := json.Marshal(m)
				if string(b) == v {
					matched++
				}
			}
		}
		if matched == len(apiByRef) {
			break
		}
		if time.Now().After(deadline) {
			var missing []string
			for ref, v := range apiByRef {
				var m map[string]any
				json.Unmarshal(state[ref], &m)
				if b, _ := json.Marshal(m); string(b) != v {
					missing = append(missing, ref+": "+string(b)+" vs API "+v)
				}
			}
			slices.Sort(missing)
			t.Fatalf("state topic matches %d of %d entities; differing: %v", matched, len(apiByRef), missing)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		m, err := r.ReadMessage(ctx)
		cancel()
		if err == nil {
			state[string(m.Key)] = m.Value
		}
	}
}
