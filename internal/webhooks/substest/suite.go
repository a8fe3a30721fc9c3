package substest

import (
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/webhooks"
	"backlot.dev/backlot/workflows/netguard"
)

// Features says what an adapter keeps beyond what every adapter keeps.
type Features struct {
	// Cursors: the store keeps each subscription's cursor on the embedded
	// log (Subscription.Cursor, Load and Save). Without it Load answers zero
	// and Save does nothing.
	Cursors bool
	// StartPositions: the store keeps Subscription.Start.
	StartPositions bool
}

// Open returns a new, empty store for t, closed by t's cleanup, and a function
// that opens a second store on the same database, as another process would.
type Open func(t *testing.T) (store webhooks.Store, again func() webhooks.Store)

// T0 is the creation time of the suite's first subscription; every time the
// suite stores is whole microseconds, PostgreSQL's precision.
var T0 = time.Date(2026, 11, 1, 12, 0, 0, 123456000, time.UTC)

// Run runs the contract suite: every case on a fresh store.
func Run(t *testing.T, f Features, open Open) {
	cases := []struct {
		name string
		run  func(t *testing.T, f Features, open Open)
	}{
		{"CreateGetList", createGetList},
		{"CreateRefusesATakenID", createRefusesATakenID},
		{"NotFound", notFound},
		{"DeleteForgetsTheSubscriptionAndItsDeadLetters", deleteForgets},
		{"DeadLettersAddListReplaceRemove", deadLetters},
		{"Cursors", cursors},
		{"AnotherProcessSeesTheWrites", anotherProcess},
		{"ConcurrentWrites", concurrentWrites},
		{"ManagerReplaysADeadLetter", managerReplays},
		{"SecretsAreSealedAtRest", secretsSealed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, f, open) })
	}
}

// sub returns a subscription created n minutes after T0.
func sub(id string, n int) webhooks.Subscription {
	return webhooks.Subscription{ID: id, URL: "https://hooks.example.com/" + id, Filter: `event.type == "backlot.entity.upserted.v1"`,
		CreatedAt: T0.Add(time.Duration(n) * time.Minute), CreatedBy: "user:default/ada", Cursor: int64(10 * n), Start: fmt.Sprintf("0:%d,1:%d", n, 2*n),
		Secret: "s3cr3t-" + id + "-of-16-chars"}
}

// kept returns what a store with features f gives back of s.
func kept(f Features, s webhooks.Subscription) webhooks.Subscription {
	if !f.Cursors {
		s.Cursor = 0
	}
	if !f.StartPositions {
		s.Start = ""
	}
	return s
}

// letter returns a dead letter of an event, n minutes after T0.
func letter(t *testing.T, n int, reason string) webhooks.DeadLetter {
	t.Helper()
	ev, err := event.New(event.TypeEntityRemoved, "component:default/a", event.EntityRemoved{Ref: "component:default/a", UID: fmt.Sprint(n), Reason: "test"},
		event.Meta{Actor: "user:default/ada", Time: T0.Add(time.Duration(n) * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return webhooks.DeadLetter{EventID: ev.ID, Reason: reason, At: T0.Add(time.Duration(n) * time.Minute), Event: raw}
}

func mustCreate(t *testing.T, s webhooks.Store, subs ...webhooks.Subscription) {
	t.Helper()
	for _, sub := range subs {
		if err := s.Create(context.Background(), sub); err != nil {
			t.Fatalf("create %s: %v", sub.ID, err)
		}
	}
}

func ids(subs []webhooks.Subscription) []string {
	out := []string{}
	for _, s := range subs {
		out = append(out, s.ID)
	}
	return out
}

// sameLetters compares dead letters, their events as JSON values (a store
// may render the JSON it keeps differently).
func sameLetters(t *testing.T, got, want []webhooks.DeadLetter) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d dead letters %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.EventID != w.EventID || g.Reason != w.Reason || !g.At.Equal(w.At) || g.At.Location() != time.UTC {
			t.Fatalf("dead letter %d is %s %q at %s, want %s %q at %s (UTC)", i, g.EventID, g.Reason, g.At, w.EventID, w.Reason, w.At)
		}
		var gv, wv any
		if err := json.Unmarshal(g.Event, &gv); err != nil {
			t.Fatalf("dead letter %s: event is not JSON: %v: %s", g.EventID, err, g.Event)
		}
		if err := json.Unmarshal(w.Event, &wv); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(gv, wv) {
			t.Fatalf("dead letter %s: event\n%s\nwant\n%s", g.EventID, g.Event, w.Event)
		}
	}
}

func createGetList(t *testing.T, f Features, open Open) {
	ctx := context.Background()
	s, _ := open(t)
	list, err := s.List(ctx)
	if err != nil || list == nil || len(list) != 0 {
		t.Fatalf("List of an empty store = %#v, %v; want an empty, non-nil slice", list, err)
	}
	// Created out of time order: List orders by creation time.
	b, a, c := sub("b", 1), sub("a", 0), sub("c", 2)
	b.Filter = "" // no filter: every event
	mustCreate(t, s, b, a, c)
	for _, want := range []webhooks.Subscription{a, b, c} {
		got, err := s.Get(ctx, want.ID)
		if err != nil {
			t.Fatalf("Get %s: %v", want.ID, err)
		}
		if want = kept(f, want); !reflect.DeepEqual(got, want) {
			t.Fatalf("Get %s =\n%+v\nwant\n%+v", want.ID, got, want)
		}
		if got.CreatedAt.Location() != time.UTC {
			t.Fatalf("Get %s: createdAt %s is not UTC", want.ID, got.CreatedAt)
		}
	}
	list, err = s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(list); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Fatalf("List = %v, want [a b c], oldest first", got)
	}
	for i, want := range []webhooks.Subscription{a, b, c} {
		if want = kept(f, want); !reflect.DeepEqual(list[i], want) {
			t.Fatalf("List[%d] =\n%+v\nwant\n%+v", i, list[i], want)
		}
	}
}

func createRefusesATakenID(t *testing.T, f Features, open Open) {
	ctx := context.Background()
	s, _ := open(t)
	first := sub("x", 0)
	mustCreate(t, s, first)
	second := sub("x", 1)
	second.URL = "https://elsewhere.example.com/"
	if err := s.Create(ctx, second); err == nil {
		t.Fatal("a second subscription with a taken id was created")
	} else if !strings.Contains(err.Error(), "x") {
		t.Fatalf("the error %q does not name the subscription", err)
	}
	got, err := s.Get(ctx, "x")
	if err != nil || !reflect.DeepEqual(got, kept(f, first)) {
		t.Fatalf("after the refused create: %+v, %v; want the first subscription unchanged", got, err)
	}
	if list, _ := s.List(ctx); len(list) != 1 {
		t.Fatalf("List holds %d subscriptions, want 1", len(list))
	}
}

func notFound(t *testing.T, f Features, open Open) {
	ctx := context.Background()
	s, _ := open(t)
	mustCreate(t, s, sub("known", 0))
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, webhooks.ErrNotFound) || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("Get of an unknown subscription: %v; want ErrNotFound naming it", err)
	}
	if err := s.Delete(ctx, "nope"); !errors.Is(err, webhooks.ErrNotFound) || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("Delete of an unknown subscription: %v; want ErrNotFound naming it", err)
	}
	if ls, err := s.DeadLetters(ctx, "nope"); err != nil || ls == nil || len(ls) != 0 {
		t.Fatalf("DeadLetters of an unknown subscription = %#v, %v; want an empty, non-nil slice", ls, err)
	}
	if err := s.DeleteDeadLetter(ctx, "known", "no-such-event"); err != nil {
		t.Fatalf("DeleteDeadLetter of a letter that is not there: %v", err)
	}
	if f.Cursors {
		if _, err := s.Load(ctx, webhooks.ConsumerPrefix+"nope"); !errors.Is(err, webhooks.ErrNotFound) {
			t.Fatalf("Load of an unknown subscription's cursor: %v; want ErrNotFound", err)
		}
	}
	if list, _ := s.List(ctx); !reflect.DeepEqual(ids(list), []string{"known"}) {
		t.Fatalf("the failed calls changed the store: %v", ids(list))
	}
}

func deleteForgets(t *testing.T, f Features, open Open) {
	ctx := context.Background()
	s, _ := open(t)
	a, b := sub("a", 0), sub("b", 1)
	mustCreate(t, s, a, b)
	la, lb := letter(t, 1, "refused"), letter(t, 2, "timeout")
	if err := s.AddDeadLetter(ctx, "a", la); err != nil {
		t.Fatal(err)
	}
	if err := s.AddDeadLetter(ctx, "b", lb); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "a"); !errors.Is(err, webhooks.ErrNotFound) {
		t.Fatalf("Get of a deleted subscription: %v", err)
	}
	if list, _ := s.List(ctx); !reflect.DeepEqual(ids(list), []string{"b"}) {
		t.Fatalf("List after deleting a: %v", ids(list))
	}
	if ls, err := s.DeadLetters(ctx, "a"); err != nil || len(ls) != 0 {
		t.Fatalf("the deleted subscription's dead letters are still there: %+v %v", ls, err)
	}
	ls, err := s.DeadLetters(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	sameLetters(t, ls, []webhooks.DeadLetter{lb})
	if err := s.Delete(ctx, "a"); !errors.Is(err, webhooks.ErrNotFound) {
		t.Fatalf("a second Delete: %v; want ErrNotFound", err)
	}
	// A subscription made again with the id starts without the old letters.
	mustCreate(t, s, a)
	if ls, _ := s.DeadLetters(ctx, "a"); len(ls) != 0 {
		t.Fatalf("a subscription created again inherited dead letters: %+v", ls)
	}
}

func deadLetters(t *testing.T, f Features, open Open) {
	ctx := context.Background()
	s, _ := open(t)
	mustCreate(t, s, sub("a", 0), sub("b", 1))
	l0, l1, l2 := letter(t, 0, "500 Internal Server Error"), letter(t, 1, "timeout"), letter(t, 2, "connection refused")
	for _, l := range []webhooks.DeadLetter{l2, l0, l1} {
		if err := s.AddDeadLetter(ctx, "a", l); err != nil {
			t.Fatal(err)
		}
	}
	other := letter(t, 3, "other subscription")
	if err := s.AddDeadLetter(ctx, "b", other); err != nil {
		t.Fatal(err)
	}
	ls, err := s.DeadLetters(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	sameLetters(t, ls, []webhooks.DeadLetter{l0, l1, l2})

	// The same event again replaces its letter: one letter per event.
	again := l0
	again.Reason, again.At = "still refused", T0.Add(10*time.Minute)
	if err := s.AddDeadLetter(ctx, "a", again); err != nil {
		t.Fatal(err)
	}
	ls, _ = s.DeadLetters(ctx, "a")
	sameLetters(t, ls, []webhooks.DeadLetter{l1, l2, again})

	if err := s.DeleteDeadLetter(ctx, "a", l1.EventID); err != nil {
		t.Fatal(err)
	}
	ls, _ = s.DeadLetters(ctx, "a")
	sameLetters(t, ls, []webhooks.DeadLetter{l2, again})
	// Removing a letter of one subscription leaves another's with the same
	// event alone.
	if err := s.AddDeadLetter(ctx, "b", l2); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDeadLetter(ctx, "a", l2.EventID); err != nil {
		t.Fatal(err)
	}
	ls, _ = s.DeadLetters(ctx, "b")
	sameLetters(t, ls, []webhooks.DeadLetter{l2, other})
	ls, _ = s.DeadLetters(ctx, "a")
	sameLetters(t, ls, []webhooks.DeadLetter{again})
}

func cursors(t *testing.T, f Features, open Open) {
	ctx := context.Background()
	s, _ := open(t)
	a := sub("a", 0)
	mustCreate(t, s, a, sub("b", 1))
	consumer := webhooks.ConsumerPrefix + "a"
	if err := s.Save(ctx, consumer, 42); err != nil {
		t.Fatal(err)
	}
	pos, err := s.Load(ctx, consumer)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Cursors {
		if pos != 0 {
			t.Fatalf("a store without cursors loaded %d", pos)
		}
		return
	}
	if pos != 42 {
		t.Fatalf("Load = %d after Save 42", pos)
	}
	if got, _ := s.Get(ctx, "a"); got.Cursor != 42 {
		t.Fatalf("Get: cursor %d, want 42", got.Cursor)
	}
	if pos, _ := s.Load(ctx, webhooks.ConsumerPrefix+"b"); pos != sub("b", 1).Cursor {
		t.Fatalf("saving a's cursor moved b's to %d", pos)
	}
	if err := s.Save(ctx, consumer, 43); err != nil {
		t.Fatal(err)
	}
	if pos, _ := s.Load(ctx, consumer); pos != 43 {
		t.Fatalf("Load = %d after Save 43", pos)
	}
}

func anotherProcess(t *testing.T, f Features, open Open) {
	ctx := context.Background()
	s, again := open(t)
	other := again()
	mustCreate(t, s, sub("a", 0))
	got, err := other.Get(ctx, "a")
	if err != nil || !reflect.DeepEqual(got, kept(f, sub("a", 0))) {
		t.Fatalf("the second store reads %+v, %v", got, err)
	}
	l := letter(t, 1, "refused")
	if err := other.AddDeadLetter(ctx, "a", l); err != nil {
		t.Fatal(err)
	}
	ls, err := s.DeadLetters(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	sameLetters(t, ls, []webhooks.DeadLetter{l})
	if err := other.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "a"); !errors.Is(err, webhooks.ErrNotFound) {
		t.Fatalf("the first store still finds a subscription the second deleted: %v", err)
	}
}

// concurrentWrites: creates of distinct ids all land; of one id, one wins; of
// concurrent deletes, one succeeds; concurrent letters for one event are one.
func concurrentWrites(t *testing.T, f Features, open Open) {
	ctx := context.Background()
	s, _ := open(t)
	const n = 16
	run := func(do func(i int) error) []error {
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = do(i)
			}()
		}
		close(start)
		wg.Wait()
		return errs
	}
	for i, err := range run(func(i int) error { return s.Create(ctx, sub(fmt.Sprintf("s%02d", i), i)) }) {
		if err != nil {
			t.Fatalf("concurrent create %d: %v", i, err)
		}
	}
	if list, err := s.List(ctx); err != nil || len(list) != n {
		t.Fatalf("after %d concurrent creates List holds %d (%v)", n, len(list), err)
	}
	won := 0
	for _, err := range run(func(i int) error {
		x := sub("same", i)
		x.URL = fmt.Sprintf("https://hooks.example.com/%d", i)
		return s.Create(ctx, x)
	}) {
		if err == nil {
			won++
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d concurrent creates of one id succeeded, want 1", won, n)
	}
	l := letter(t, 1, "refused")
	for i, err := range run(func(i int) error { return s.AddDeadLetter(ctx, "same", l) }) {
		if err != nil {
			t.Fatalf("concurrent dead letter %d: %v", i, err)
		}
	}
	if ls, err := s.DeadLetters(ctx, "same"); err != nil || len(ls) != 1 {
		t.Fatalf("%d concurrent letters of one event left %d (%v), want 1", n, len(ls), err)
	}
	deleted, missing := 0, 0
	for _, err := range run(func(int) error { return s.Delete(ctx, "same") }) {
		switch {
		case err == nil:
			deleted++
		case errors.Is(err, webhooks.ErrNotFound):
			missing++
		default:
			t.Fatalf("concurrent delete: %v", err)
		}
	}
	if deleted != 1 || missing != n-1 {
		t.Fatalf("concurrent deletes of one subscription: %d succeeded, %d not found; want 1 and %d", deleted, missing, n-1)
	}
	if ls, _ := s.DeadLetters(ctx, "same"); len(ls) != 0 {
		t.Fatalf("the deleted subscription kept %d dead letters", len(ls))
	}
}

// managerReplays runs webhooks.Manager.Replay over the store: a replay the
// receiver refuses keeps the letter, one it accepts delivers the stored event
// and removes the letter, and there is then nothing left to replay.
func managerReplays(t *testing.T, f Features, open Open) {
	ctx := context.Background()
	s, _ := open(t)
	var refuse atomic.Bool
	var mu sync.Mutex
	var got []event.Envelope
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if refuse.Load() {
			http.Error(w, "refused", http.StatusInternalServerError)
			return
		}
		var ev event.Envelope
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	received := func() []event.Envelope {
		mu.Lock()
		defer mu.Unlock()
		return append([]event.Envelope(nil), got...)
	}
	a := sub("a", 0)
	a.URL = srv.URL
	mustCreate(t, s, a)
	l := letter(t, 1, "refused")
	if err := s.AddDeadLetter(ctx, "a", l); err != nil {
		t.Fatal(err)
	}
	// The receiver listens on loopback, which deliveries reach only when
	// allowed.
	m, err := webhooks.Start(ctx, webhooks.Config{Store: s, Deliver: false, Guard: netguard.Loopback()})
	if err != nil {
		t.Fatal(err)
	}
	refuse.Store(true)
	if err := m.Replay(ctx, "a", l.EventID); err == nil {
		t.Fatal("a replay the receiver refused succeeded")
	}
	ls, _ := s.DeadLetters(ctx, "a")
	sameLetters(t, ls, []webhooks.DeadLetter{l})
	refuse.Store(false)
	if err := m.Replay(ctx, "a", l.EventID); err != nil {
		t.Fatal(err)
	}
	var want event.Envelope
	if err := json.Unmarshal(l.Event, &want); err != nil {
		t.Fatal(err)
	}
	r := received()
	if len(r) != 1 || r[0].ID != l.EventID || !sameEvent(r[0], want) {
		t.Fatalf("the replay delivered %+v, want the stored event %+v", r, want)
	}
	if ls, _ := s.DeadLetters(ctx, "a"); len(ls) != 0 {
		t.Fatalf("the replayed letter is still there: %+v", ls)
	}
	if err := m.Replay(ctx, "a", l.EventID); err == nil {
		t.Fatal("a second replay of the same letter succeeded")
	}
	if err := m.Replay(ctx, "nope", l.EventID); err == nil {
		t.Fatal("a replay for an unknown subscription succeeded")
	}
	if r := received(); len(r) != 1 {
		t.Fatalf("%d deliveries, want only the one replay", len(r))
	}
}

// sameEvent compares two envelopes, their data as JSON values.
func sameEvent(a, b event.Envelope) bool {
	var da, db any
	if json.Unmarshal(a.Data, &da) != nil || json.Unmarshal(b.Data, &db) != nil || !reflect.DeepEqual(da, db) {
		return false
	}
	a.Data, b.Data = nil, nil
	return reflect.DeepEqual(a, b)
}

// secretsSealed: through webhooks.SealSecrets the store keeps only the
// sealed text, another process with the key reads the secret back, an old
// secret stored in clear still reads, and another key cannot open it.
func secretsSealed(t *testing.T, _ Features, open Open) {
	ctx := context.Background()
	store, again := open(t)
	key := make([]byte, 32)
	crand.Read(key)
	sealer, err := webhooks.NewAESSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed := webhooks.SealSecrets(store, sealer)
	s1 := sub("sealed", 1)
	if err := sealed.Create(ctx, s1); err != nil {
		t.Fatal(err)
	}
	raw, err := store.Get(ctx, s1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(raw.Secret, webhooks.SealedPrefix) || strings.Contains(raw.Secret, s1.Secret) {
		t.Fatalf("the store holds %q, not the sealed secret", raw.Secret)
	}
	old := sub("clear", 2)
	if err := store.Create(ctx, old); err != nil {
		t.Fatal(err)
	}
	other := webhooks.SealSecrets(again(), sealer)
	got, err := other.Get(ctx, s1.ID)
	if err != nil || got.Secret != s1.Secret {
		t.Fatalf("another process read %q, %v; want the secret", got.Secret, err)
	}
	got, err = other.Get(ctx, old.ID)
	if err != nil || got.Secret != old.Secret {
		t.Fatalf("the old clear secret read as %q, %v", got.Secret, err)
	}
	list, err := sealed.List(ctx)
	if err != nil || len(list) != 2 || list[0].Secret != s1.Secret || list[1].Secret != old.Secret {
		t.Fatalf("list: %+v %v", list, err)
	}
	wrong := make([]byte, 32)
	crand.Read(wrong)
	ws, _ := webhooks.NewAESSealer(wrong)
	if _, err := webhooks.SealSecrets(store, ws).Get(ctx, s1.ID); err == nil || !strings.Contains(err.Error(), "sealed under key") || !strings.Contains(err.Error(), s1.ID) {
		t.Fatalf("another key: %v", err)
	}
}
