package statefeed_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/internal/messaging"
	"backlot.dev/backlot/internal/messaging/messagingtest"
	"backlot.dev/backlot/internal/statefeed"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/projector"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// entityRemovedV0 is a made-up older version of the removal event, in which
// ref was called entityRef; TestMain registers its upcaster on Backlot's own
// registry, so the catalog fold and the handler read it as v1.
const entityRemovedV0 event.Type = "backlot.entity.removed.v0"

// TestMain registers the upcaster of entityRemovedV0 before any test reads
// an event.
func TestMain(m *testing.M) {
	if err := event.RegisterUpcaster(entityRemovedV0, event.TypeEntityRemoved, func(data json.RawMessage) (json.RawMessage, error) {
		var d map[string]json.RawMessage
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, err
		}
		d["ref"] = d["entityRef"]
		delete(d, "entityRef")
		return json.Marshal(d)
	}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

func upsert(t *testing.T, name, owner string) event.Envelope {
	t.Helper()
	e, err := catalog.NewEntity(map[string]any{
		"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
		"metadata": map[string]any{"name": name},
		"spec":     map[string]any{"type": "service", "lifecycle": "production", "owner": owner},
	})
	if err != nil {
		t.Fatal(err)
	}
	body := e.JSON()
	ev, err := event.New(event.TypeEntityUpserted, e.Ref().Key(), event.EntityUpserted{
		Ref: e.Ref().String(), UID: "uid-" + name, Hash: catalog.HashJSON(body), Entity: json.RawMessage(body), LocationID: "L1",
	}, event.Meta{Actor: "location:L1"})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestStateTopicCarriesTheEntityAsTheAPIReturnsItAndTombstones runs the handler
// on the router over the embedded log and reads what it publishes. The removal
// it tombstones is an older version of its type (entityRemovedV0).
func TestStateTopicCarriesTheEntityAsTheAPIReturnsItAndTombstones(t *testing.T) {
	dir := t.TempDir()
	log, err := sqlitelog.Open(filepath.Join(dir, "events.db"), sqlitelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	store, err := sqlitecatalog.Open(filepath.Join(dir, "catalog.db"), sqlitecatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	proj := projector.New(event.SinglePartition(log), store, projector.Options{Logger: quiet})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go proj.Run(ctx)

	// A Go channel delivers each message on a goroutine of its own unless a
	// publish waits for the subscriber's ack: without the wait, a later state
	// of checkout can arrive before an earlier one.
	out := gochannel.NewGoChannel(gochannel.Config{Persistent: true, BlockPublishUntilSubscriberAck: true}, nil)
	defer out.Close()
	states, err := out.Subscribe(ctx, "state")
	if err != nil {
		t.Fatal(err)
	}
	cursors, _ := messagingtest.NewFileCursors(filepath.Join(dir, "cursors.json"))
	sub, _ := messaging.NewLogSubscriber(messaging.LogSubscriberConfig{Log: log, Cursors: cursors, Consumer: "state", Logger: quiet})
	r, err := messaging.NewRouter(messaging.RouterConfig{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	h := &statefeed.Handler{Reader: store, Waiter: proj, Publisher: out, Topic: "state"}
	r.AddConsumerHandler("state", "events", sub, h.Handle)
	go r.Run(ctx)
	defer r.Close()

	a1, b := upsert(t, "checkout", "team-a"), upsert(t, "billing", "team-b")
	if _, err := log.Append(ctx, []event.Envelope{a1, b}); err != nil {
		t.Fatal(err)
	}
	a2 := upsert(t, "checkout", "team-c")
	// The removal is of an older version of its type: the handler and the
	// fold read it as the newest, so billing still ends in a tombstone.
	rm, err := event.New(entityRemovedV0, "component:default/billing", map[string]string{"entityRef": "component:default/billing", "uid": "uid-billing"}, event.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := log.Append(ctx, []event.Envelope{a2, rm}); err != nil {
		t.Fatal(err)
	}
	latest := map[string][]byte{}
	seen := 0
	for seen < 4 {
		select {
		case m := <-states:
			m.Ack()
			seen++
			latest[m.Metadata.Get(messaging.MetaKey)] = m.Payload
			if m.Metadata.Get(statefeed.MetaEventID) == "" {
				t.Fatal("state message without its event id")
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%d state messages, want 4", seen)
		}
	}
	if p := latest["component:default/billing"]; len(p) != 0 {
		t.Fatalf("billing was removed but its last state is %s, want a tombstone", p)
	}
	var got map[string]any
	if err := json.Unmarshal(latest["component:default/checkout"], &got); err != nil {
		t.Fatal(err)
	}
	view, err := store.ByKeys(ctx, []string{"component:default/checkout"})
	if err != nil || view[0] == nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(view[0])
	gotJSON, _ := json.Marshal(got)
	var wantMap map[string]any
	json.Unmarshal(want, &wantMap)
	wantJSON, _ := json.Marshal(wantMap)
	if string(gotJSON) != string(wantJSON) {
		t.Fatalf("state of checkout:\n%s\nwant the API's:\n%s", gotJSON, wantJSON)
	}
	if spec := got["spec"].(map[string]any); spec["owner"] != "team-c" {
		t.Fatalf("state owner %v, want team-c", spec["owner"])
	}
	if rels, _ := got["relations"].([]any); len(rels) == 0 {
		t.Fatal("state carries no relations")
	}
}
