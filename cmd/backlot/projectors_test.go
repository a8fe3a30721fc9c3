package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/bench/gen"
	"backlot.dev/backlot/internal/eventlog/kafkalog"
	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
	"backlot.dev/backlot/internal/testenv/pgtest"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/catalogstore/pgcatalog"
	"backlot.dev/backlot/projections/catalogstore/storetest"
	"backlot.dev/backlot/projections/projector"
)

// assignments collects the "projector assigned partitions" lines of the
// processes' logs.
type assignments struct {
	mu  sync.Mutex
	got map[int][]string
}

var assignedLine = regexp.MustCompile(`projector assigned partitions.*partitions="?\[([0-9 ]*)\]`)

func (a *assignments) watch(proc int, r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if m := assignedLine.FindStringSubmatch(sc.Text()); m != nil {
			a.mu.Lock()
			a.got[proc] = append(a.got[proc], m[1])
			a.mu.Unlock()
		}
	}
}

// TestThreeProjectorsShareThePartitionsAndSurviveKill9 runs three projector
// processes in one consumer group over a six-partition event topic, kills one
// with SIGKILL while they fold, and checks the read model ends identical to a
// one-process fold of the same log: nothing lost, nothing applied twice.
func TestThreeProjectorsShareThePartitionsAndSurviveKill9(t *testing.T) {
	bin := buildBinary(t)
	brokers := kafkatest.Brokers(t)
	prefix := kafkatest.TopicPrefix(t)
	dbURL := pgtest.URL(t)
	ctx := t.Context()

	log, err := kafkalog.Open(ctx, kafkalog.Options{Brokers: brokers, TopicPrefix: prefix, Partitions: 6, ReplicationFactor: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	// 30,000 components, then an edit of the first 3,000 and the removal of 500.
	const n = 30000
	v1, err := gen.ComponentUpserts(1, n, 1)
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := gen.ComponentUpserts(1, 3000, 2)
	idx := make([]int, 500)
	for i := range idx {
		idx[i] = i * 7
	}
	rm, _ := gen.ComponentRemovals(1, idx...)
	all := append(append(v1, v2...), rm...)
	for i := 0; i < len(all); i += 1000 {
		if _, err := log.Append(ctx, all[i:min(i+1000, len(all))]); err != nil {
			t.Fatal(err)
		}
	}
	heads, err := log.Heads(ctx)
	if err != nil {
		t.Fatal(err)
	}

	as := &assignments{got: map[int][]string{}}
	var procs []*exec.Cmd
	for i := range 3 {
		cmd := exec.Command(bin, "serve", "--roles", "projector", "--addr", "127.0.0.1:0",
			"--kafka-brokers", strings.Join(brokers, ","), "--postgres-url", dbURL,
			"--topic-prefix", prefix, "--group", prefix+"projector", "--partitions", "6", "--replication-factor", "1")
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go as.watch(i, stderr)
		procs = append(procs, cmd)
	}
	defer func() {
		for _, p := range procs {
			p.Process.Signal(syscall.SIGTERM)
			p.Wait()
		}
	}()

	store, err := pgcatalog.Open(ctx, dbURL, pgcatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	// Kill the first process once the read model is well on its way and the
	// group has split the partitions between the three (the first to join
	// folds alone until the others' joining rebalances the group, which can
	// take a few seconds), while they still fold.
	total := int64(len(all))
	deadline := time.Now().Add(3 * time.Minute)
	var split bool
	var snapshot string
	for {
		as.mu.Lock()
		split, snapshot = len(as.got) == 3, fmt.Sprint(as.got)
		as.mu.Unlock()
		pos, err := store.Positions(ctx)
		if err == nil && (sum(pos) >= total || (split && sum(pos) > total/5)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("projectors did not get going: positions %v (%v), assignments %s", pos, err, snapshot)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := procs[0].Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	procs[0].Wait()
	procs = procs[1:]
	pos, _ := store.Positions(ctx)
	t.Logf("killed projector 0 at %d of %d events applied; assignments %s", sum(pos), total, snapshot)
	if !split {
		t.Errorf("the three projectors did not all get partitions before the kill: %s", snapshot)
	}
	if sum(pos) >= total {
		t.Errorf("every event was applied before the kill (%d of %d): the kill tested no fold in progress", sum(pos), total)
	}

	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if err := (&projector.PollWaiter{Reader: store}).WaitFor(wctx, heads); err != nil {
		t.Fatalf("the remaining projectors did not take over: %v", err)
	}
	got, err := storetest.DumpReader(ctx, store)
	if err != nil {
		t.Fatal(err)
	}

	fresh, err := pgcatalog.Open(ctx, pgtest.URL(t), pgcatalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if _, err := projector.New(log, fresh, projector.Options{}).CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	want, err := storetest.DumpReader(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("three projectors with a kill -9 folded a different read model than one:\n%s", firstLineDiff(want, got))
	}
	page, err := store.Query(ctx, catalogstore.PageQuery{Limit: 1, CountTotal: true})
	if err != nil || page.TotalItems != n-len(idx) {
		t.Fatalf("read model holds %d entities (%v), want %d", page.TotalItems, err, n-len(idx))
	}
}

func sum(p event.Positions) int64 {
	var s int64
	for _, v := range p {
		s += v
	}
	return s
}

// firstLineDiff shows the first line where a and b differ.
func firstLineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < min(len(al), len(bl)); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n want %s\n got  %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d lines", len(al), len(bl))
}
