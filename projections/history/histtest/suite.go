package histtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/projections/catalogstore/storetest"
	"backlot.dev/backlot/projections/history"
)

// Features says what the store under test supports beyond the common contract.
type Features struct {
	// Partitioned is set for a store that folds a partitioned log: it applies
	// events of any partition, records a position per partition, and may be
	// applied to from several goroutines or processes at once, each with its
	// own partitions. When unset, Run checks that the store refuses an event of
	// a partition other than 0.
	Partitioned bool
}

// Opener opens a fresh, empty store for one test; the opener's cleanup closes it.
type Opener func(t *testing.T) history.Store

// Seeds are the seeds of the random histories the property cases fold.
var Seeds = []uint64{1, 2, 3, 42, 2026}

// Run runs the contract suite against the stores open makes. Subtests run in
// parallel, each with its own store.
func Run(t *testing.T, open Opener, f Features) {
	type tc struct {
		name string
		run  func(t *testing.T, open Opener)
	}
	cases := []tc{
		{"VersionsThroughEditsRemovalsAndRecreation", testVersionsLife},
		{"ProvenanceAndDigests", testProvenance},
		{"LocationEntitiesHaveVersions", testLocations},
		{"ClockGoingBackNeverOverlaps", testClockBack},
		{"IdempotentAndBatchingsAgree", testBatchings},
		{"CurrentEqualsMapFoldAtEveryInstant", testCurrentProperty},
	}
	if f.Partitioned {
		cases = append(cases,
			tc{"PartitionsFoldTheSameHistory", testPartitions},
			tc{"ConcurrentAppliesOfPartitions", testConcurrentPartitions},
		)
	} else {
		cases = append(cases, tc{"RefusesOtherPartitions", testRefusesOtherPartitions})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, open)
		})
	}
}

// ApplyInBatches applies evs in batches of size, failing the test on error.
func ApplyInBatches(tb testing.TB, s history.Store, evs []event.Envelope, size int) {
	tb.Helper()
	for i := 0; i < len(evs); i += size {
		if err := s.Apply(context.Background(), evs[i:min(i+size, len(evs))]); err != nil {
			tb.Fatal(err)
		}
	}
}

func versions(t *testing.T, s history.Reader, key string) []history.Version {
	t.Helper()
	vs, err := s.Versions(context.Background(), key, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func testVersionsLife(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	evs := []event.Envelope{
		Upsert(t, 1, "checkout", "team-a", "u1", nil),
		Upsert(t, 2, "checkout", "team-a", "u1", nil), // the same body: nothing
		Upsert(t, 3, "checkout", "team-b", "u1", nil),
		Remove(t, 4, "checkout", "u1"),
		Remove(t, 5, "checkout", "u1"), // already removed: nothing
		Upsert(t, 6, "Checkout", "team-b", "u2", nil),
		Remove(t, 7, "checkout", "u1"), // stale: the entity was re-created as u2
		Upsert(t, 8, "Checkout", "team-b", "u2", nil),
	}
	ApplyInBatches(t, s, evs, 3)
	key := "component:default/checkout"
	vs := versions(t, s, key)
	type want struct {
		n        int
		from     int64
		to       int64 // 0 when current
		removed  bool
		uid, ref string
	}
	wants := []want{
		{1, 1, 3, false, "u1", "component:default/checkout"},
		{2, 3, 4, false, "u1", "component:default/checkout"},
		{3, 4, 6, true, "u1", "component:default/checkout"},
		{4, 6, 0, false, "u2", "component:default/Checkout"},
	}
	if len(vs) != len(wants) {
		t.Fatalf("%d versions, want %d:\n%s", len(vs), len(wants), Dump(t, s))
	}
	for i, w := range wants {
		v := vs[i]
		to := int64(0)
		if v.ValidTo != nil {
			to = v.ValidTo.Position
			if !v.ValidTo.Time.Equal(Epoch.Add(time.Duration(to) * time.Second)) {
				t.Errorf("version %d: ValidTo time %v", v.Number, v.ValidTo.Time)
			}
		}
		if v.Number != w.n || v.ValidFrom.Position != w.from || to != w.to || v.Removed != w.removed || v.UID != w.uid || v.Ref != w.ref || v.Key != key {
			t.Errorf("version %d = %+v, want %+v", i+1, v, w)
		}
		if !v.ValidFrom.Time.Equal(Epoch.Add(time.Duration(w.from) * time.Second)) {
			t.Errorf("version %d: ValidFrom time %v", v.Number, v.ValidFrom.Time)
		}
		if w.removed != (v.Body == nil) || w.removed != (v.Hash == "") {
			t.Errorf("version %d: removed=%t with body %q and hash %q", v.Number, v.Removed, v.Body, v.Hash)
		}
		if v.EventID != evs[w.from-1].ID || v.EventType != evs[w.from-1].Type {
			t.Errorf("version %d: event %s %s, want %s", v.Number, v.EventID, v.EventType, evs[w.from-1].ID)
		}
	}
	if !strings.Contains(string(vs[1].Body), `"team-b"`) || !strings.Contains(string(vs[0].Body), `"team-a"`) {
		t.Errorf("bodies: %s / %s", vs[0].Body, vs[1].Body)
	}
	if vs[2].Actor != "user:default/ada" {
		t.Errorf("removal actor %q", vs[2].Actor)
	}
	page, err := s.Versions(ctx, key, 1, 2)
	if err != nil || len(page) != 2 || page[0].Number != 2 || page[1].Number != 3 {
		t.Fatalf("Versions(after 1, limit 2) = %v, %v", page, err)
	}
	v3, err := s.Version(ctx, key, 3)
	if err != nil || !v3.Removed {
		t.Fatalf("Version 3 = %+v, %v", v3, err)
	}
	if _, err := s.Version(ctx, key, 9); !errors.Is(err, history.ErrNotFound) {
		t.Fatalf("Version 9: %v, want ErrNotFound", err)
	}
	if vs, err := s.Versions(ctx, "component:default/none", 0, 0); err != nil || len(vs) != 0 {
		t.Fatalf("versions of an unknown key: %v, %v", vs, err)
	}
	if p, err := s.Positions(ctx); err != nil || p[0] != 8 {
		t.Fatalf("Positions = %v, %v", p, err)
	}
	for _, c := range []struct {
		at   history.Instant
		want int // the version valid then, 0 for none
	}{
		{history.AtPositions(event.Positions{0: 0}), 0},
		{history.AtPositions(event.Positions{0: 2}), 1},
		{history.AtPositions(event.Positions{0: 3}), 2},
		{history.AtPositions(event.Positions{0: 5}), 0},
		{history.AtPositions(event.Positions{0: 8}), 4},
		{history.AtTime(Epoch.Add(3*time.Second - time.Nanosecond)), 1},
		{history.AtTime(Epoch.Add(3 * time.Second)), 2},
		{history.AtTime(Epoch.Add(4 * time.Second)), 0},
		{history.AtTime(Epoch.Add(time.Hour)), 4},
	} {
		cur, err := s.Current(ctx, c.at, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		if len(cur) == 1 {
			got = cur[0].Number
		}
		if len(cur) > 1 || got != c.want {
			t.Errorf("Current(%s) = %d versions, version %d; want version %d", c.at, len(cur), got, c.want)
		}
	}
}

func testProvenance(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	commit := &event.Commit{SHA: strings.Repeat("ab", 20), Author: "Grace Hopper", Email: "grace@example.com", Time: "2026-01-01T08:00:00Z"}
	pe, err := event.New(event.TypeProcessingErrorRecorded, "location:default/x", event.ProcessingErrorRecorded{LocationID: "L1"}, event.Meta{Time: Epoch})
	if err != nil {
		t.Fatal(err)
	}
	pe.Position = 2
	evs := []event.Envelope{Upsert(t, 1, "ledger", "team-a", "u1", nil), pe, Upsert(t, 3, "ledger", "team-b", "u1", commit)}
	ApplyInBatches(t, s, evs, 10)
	vs := versions(t, s, "component:default/ledger")
	if len(vs) != 2 {
		t.Fatalf("%d versions, want 2", len(vs))
	}
	if vs[0].Commit != nil {
		t.Errorf("version 1 has commit %+v", vs[0].Commit)
	}
	v := vs[1]
	if v.Commit == nil || *v.Commit != *commit {
		t.Errorf("commit = %+v, want %+v", v.Commit, commit)
	}
	if v.Actor != "location:L1" || v.CorrelationID != "c-3" || v.LocationID != "L1" || v.ManagedBy != "file:/catalog/ledger.yaml" {
		t.Errorf("provenance = actor %q corr %q loc %q by %q", v.Actor, v.CorrelationID, v.LocationID, v.ManagedBy)
	}
	if v.Digest != event.Digest(&evs[2]) || vs[0].Digest != event.Digest(&evs[0]) {
		t.Errorf("digests of versions differ from the events'")
	}
	ds, err := s.Digests(ctx, history.Pos{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 3 {
		t.Fatalf("%d digests, want one per applied event (3)", len(ds))
	}
	for i, d := range ds {
		if d.EventID != evs[i].ID || d.Position != evs[i].Position || d.Digest != event.Digest(&evs[i]) || d.Type != evs[i].Type || d.Subject != evs[i].Subject {
			t.Errorf("digest %d = %+v", i, d)
		}
	}
	if ds, err := s.Digests(ctx, history.Pos{Position: 1}, 1); err != nil || len(ds) != 1 || ds[0].Position != 2 {
		t.Errorf("Digests(after 1, limit 1) = %+v, %v", ds, err)
	}
	if cs, err := s.Changes(ctx, history.Pos{Position: 1}, 0); err != nil || len(cs) != 1 || cs[0].Number != 2 {
		t.Errorf("Changes(after 1) = %+v, %v", cs, err)
	}
}

func testLocations(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	evs := []event.Envelope{
		Location(t, 1, "L1", "/catalog/a.yaml", false),
		Location(t, 2, "L1", "/catalog/a.yaml", false), // registered already: nothing
		Location(t, 3, "L1", "/catalog/a.yaml", true),
		Location(t, 4, "L1", "/catalog/a.yaml", true), // gone already: nothing
		Location(t, 5, "L2", "/catalog/a.yaml", false),
	}
	ApplyInBatches(t, s, evs, 2)
	key := strings.ToLower(evs[0].Subject)
	vs := versions(t, s, key)
	if len(vs) != 3 || vs[0].Removed || !vs[1].Removed || vs[2].Removed || vs[0].UID != "L1" || vs[2].UID != "L2" {
		t.Fatalf("versions of the generated Location entity:\n%s", Dump(t, s))
	}
	if vs[0].ManagedBy != "file:/catalog/a.yaml" || !strings.Contains(string(vs[0].Body), `"kind":"Location"`) || vs[0].Hash == "" {
		t.Errorf("version 1 = %+v", vs[0])
	}
	cur, err := s.Current(ctx, history.AtPositions(event.Positions{0: 3}), "", 0)
	if err != nil || len(cur) != 0 {
		t.Errorf("Current after the removal = %v, %v", cur, err)
	}
}

func testClockBack(t *testing.T, open Opener) {
	s := open(t)
	evs := []event.Envelope{
		Upsert(t, 1, "auth", "team-a", "u1", nil),
		Upsert(t, 2, "auth", "team-b", "u1", nil),
		Upsert(t, 3, "auth", "team-c", "u1", nil),
	}
	evs[1].Time = Epoch.Add(-time.Hour) // a clock went back
	ApplyInBatches(t, s, evs, 1)
	vs := versions(t, s, "component:default/auth")
	if len(vs) != 3 || !vs[1].ValidFrom.Time.Equal(vs[0].ValidFrom.Time) || !vs[0].ValidTo.Time.Equal(vs[1].ValidFrom.Time) {
		t.Fatalf("versions:\n%s", Dump(t, s))
	}
	for _, at := range []time.Time{Epoch.Add(-2 * time.Hour), Epoch, Epoch.Add(2 * time.Second), Epoch.Add(3 * time.Second)} {
		cur, err := s.Current(context.Background(), history.AtTime(at), "", 0)
		if err != nil || len(cur) > 1 {
			t.Fatalf("Current(%v) = %d versions, %v", at, len(cur), err)
		}
	}
}

func testBatchings(t *testing.T, open Opener) {
	evs := Generate(t, 7, 300)
	once := open(t)
	ApplyInBatches(t, once, evs, len(evs))
	want := Dump(t, once)
	for _, size := range []int{1, 7, 64} {
		s := open(t)
		ApplyInBatches(t, s, evs, size)
		ApplyInBatches(t, s, evs[:len(evs)/2], 13) // applied again: nothing changes
		if got := Dump(t, s); got != want {
			t.Fatalf("batches of %d fold another history:\n%s", size, firstDiff(got, want))
		}
	}
	// Overlapping batches.
	s := open(t)
	ApplyInBatches(t, s, evs[:200], 50)
	ApplyInBatches(t, s, evs[100:], 33)
	if got := Dump(t, s); got != want {
		t.Fatalf("overlapping batches fold another history:\n%s", firstDiff(got, want))
	}
}

// firstDiff names the first line where two dumps differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n got  %s\n want %s", i+1, a, b)
		}
	}
	return "no difference"
}

// CheckCurrent compares Current at every instant the events record (each
// prefix of their order, as positions, and each distinct event time) with the
// Model of the events up to it. evs are in log order as appended; with
// several partitions the positions of a prefix are those of its last event in
// each partition.
func CheckCurrent(t *testing.T, s history.Reader, evs []event.Envelope) {
	t.Helper()
	for i := 0; i <= len(evs); i++ {
		at := event.PositionsOf(evs[:i])
		compareCurrent(t, s, history.AtPositions(at), Model(t, evs[:i]))
	}
	seen := map[time.Time]bool{}
	times := []time.Time{Epoch.Add(-time.Second)}
	for i := range evs {
		if !seen[evs[i].Time] {
			seen[evs[i].Time] = true
			times = append(times, evs[i].Time)
		}
	}
	for _, at := range times {
		var upTo []event.Envelope
		for i := range evs {
			if !evs[i].Time.After(at) {
				upTo = append(upTo, evs[i])
			}
		}
		compareCurrent(t, s, history.AtTime(at), Model(t, upTo))
	}
}

func compareCurrent(t *testing.T, s history.Reader, at history.Instant, model map[string]Entity) {
	t.Helper()
	var got []history.Version
	after := ""
	for { // in pages of 3, so paging is checked too
		page, err := s.Current(context.Background(), at, after, 3)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if len(page) < 3 {
			break
		}
		after = page[len(page)-1].Key
	}
	want := sortedEntities(model)
	render := func(key, ref, uid, hash, body string) string {
		return fmt.Sprintf("%s ref=%s uid=%s hash=%s body=%s", key, ref, uid, hash, body)
	}
	var g, w []string
	for _, v := range got {
		g = append(g, render(v.Key, v.Ref, v.UID, v.Hash, string(v.Body)))
	}
	for _, e := range want {
		w = append(w, render(e.Key, e.Ref, e.UID, e.Hash, e.Body))
	}
	if gs, ws := strings.Join(g, "\n"), strings.Join(w, "\n"); gs != ws {
		t.Fatalf("Current(%s) differs from the map fold:\n%s", at, firstDiff(gs, ws))
	}
}

func testCurrentProperty(t *testing.T, open Opener) {
	for _, seed := range Seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			evs := Generate(t, seed, 160)
			s := open(t)
			ApplyInBatches(t, s, evs, 1+int(seed%17))
			CheckCurrent(t, s, evs)
		})
	}
}

func testRefusesOtherPartitions(t *testing.T, open Opener) {
	s := open(t)
	ev := Upsert(t, 1, "mail", "team-a", "u1", nil)
	ev.Partition = 1
	err := s.Apply(context.Background(), []event.Envelope{ev})
	if err == nil || !strings.Contains(err.Error(), "partition 1") {
		t.Fatalf("Apply of partition 1 = %v, want an error naming the partition", err)
	}
	if p, err := s.Positions(context.Background()); err != nil || p[0] != 0 || p[1] != 0 {
		t.Fatalf("Positions after a refused batch = %v, %v", p, err)
	}
}

func testPartitions(t *testing.T, open Opener) {
	for _, seed := range Seeds[:3] {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			evs := Generate(t, seed, 200)
			single := open(t)
			ApplyInBatches(t, single, evs, 50)
			want := DumpByKey(t, single)
			parted := storetest.Partition(evs, 4)
			// In log order, in batches that mix partitions.
			s := open(t)
			ApplyInBatches(t, s, parted, 9)
			if got := DumpByKey(t, s); got != want {
				t.Fatalf("4 partitions in log order:\n%s", firstDiff(got, want))
			}
			CheckCurrent(t, s, parted)
			// One partition after the other, last first.
			s2 := open(t)
			by := map[int32][]event.Envelope{}
			for _, ev := range parted {
				by[ev.Partition] = append(by[ev.Partition], ev)
			}
			for p := int32(3); p >= 0; p-- {
				ApplyInBatches(t, s2, by[p], 11)
			}
			if got := DumpByKey(t, s2); got != want {
				t.Fatalf("4 partitions one after the other:\n%s", firstDiff(got, want))
			}
			if Dump(t, s2) != Dump(t, s) {
				t.Fatalf("the interleavings hold different positions:\n%s", firstDiff(Dump(t, s2), Dump(t, s)))
			}
		})
	}
}

func testConcurrentPartitions(t *testing.T, open Opener) {
	evs := storetest.Partition(Generate(t, 99, 400), 4)
	ref := open(t)
	ApplyInBatches(t, ref, evs, 400)
	want := Dump(t, ref)
	s := open(t)
	by := map[int32][]event.Envelope{}
	for _, ev := range evs {
		by[ev.Partition] = append(by[ev.Partition], ev)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for p, part := range by {
		for w := 0; w < 2; w++ { // two appliers of each partition, as during a rebalance
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < len(part); i += 5 {
					if err := s.Apply(context.Background(), part[i:min(i+5, len(part))]); err != nil {
						errs <- fmt.Errorf("partition %d: %w", p, err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := Dump(t, s); got != want {
		t.Fatalf("concurrent applies fold another history:\n%s", firstDiff(got, want))
	}
}
