package kafkalog_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"backlot.dev/backlot/internal/eventlog/kafkalog"
	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
)

// groupTimeouts makes consumer groups react fast: on the fake cluster as fast as it
// allows, on a real one as fast as a broker's default minimum session timeout (6s)
// allows.
func groupTimeouts(o *kafkalog.Options) {
	if kafkatest.Real() {
		o.GroupSessionTimeout = 6 * time.Second
		o.GroupHeartbeatInterval = 500 * time.Millisecond
	} else {
		o.GroupSessionTimeout = time.Second
		o.GroupHeartbeatInterval = 100 * time.Millisecond
	}
	o.GroupRebalanceTimeout = 5 * time.Second
	o.GroupJoinBackoff = 100 * time.Millisecond
}

// owners records which member runs which partitions, and every time two members ran
// a partition at once.
type owners struct {
	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every change
	owner    map[int32]int
	held     map[int][]int32
	overlaps []string
}

func newOwners() *owners {
	return &owners{changed: make(chan struct{}), owner: map[int32]int{}, held: map[int][]int32{}}
}

// run is member's run function: it holds its partitions until its context ends.
func (o *owners) run(member int) func(context.Context, []int32) {
	return func(ctx context.Context, partitions []int32) {
		if !slices.IsSorted(partitions) {
			o.note(fmt.Sprintf("member %d got unsorted partitions %v", member, partitions))
		}
		o.mu.Lock()
		for _, p := range partitions {
			if other, ok := o.owner[p]; ok {
				o.overlaps = append(o.overlaps, fmt.Sprintf("partition %d given to member %d while member %d runs it", p, member, other))
			}
			o.owner[p] = member
		}
		o.held[member] = partitions
		o.notify()
		o.mu.Unlock()

		<-ctx.Done()

		o.mu.Lock()
		for _, p := range partitions {
			if o.owner[p] == member {
				delete(o.owner, p)
			}
		}
		delete(o.held, member)
		o.notify()
		o.mu.Unlock()
	}
}

func (o *owners) note(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.overlaps = append(o.overlaps, s)
}

// notify wakes waitFor; o.mu is held.
func (o *owners) notify() {
	close(o.changed)
	o.changed = make(chan struct{})
}

// waitFor waits until the members in members, and only they, run every partition
// between them, each at least one.
func (o *owners) waitFor(t *testing.T, members []int, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		o.mu.Lock()
		ok := len(o.owner) == manyPartitions && slices.Equal(slices.Sorted(maps.Keys(o.held)), members)
		for _, m := range members {
			ok = ok && len(o.held[m]) > 0
		}
		state := fmt.Sprint(o.held)
		changed := o.changed
		o.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("after %s members %v do not share the %d partitions; members run %s", timeout, members, manyPartitions, state)
		}
	}
}

func TestGroupSharesPartitions(t *testing.T) {
	t.Parallel()
	brokers := kafkatest.Brokers(t)
	prefix := kafkatest.TopicPrefix(t)
	group := prefix + "projector"
	const members = 3
	own := newOwners()

	cancels := make([]context.CancelFunc, members)
	results := make([]chan error, members)
	for m := range members {
		// One Log per member, as one per process.
		l := openLog(t, brokers, manyPartitions, groupTimeouts, func(o *kafkalog.Options) { o.TopicPrefix = prefix })
		ctx, cancel := context.WithCancel(t.Context())
		cancels[m], results[m] = cancel, make(chan error, 1)
		go func() { results[m] <- l.RunGroup(ctx, group, own.run(m)) }()
	}
	defer func() {
		for m := range members {
			cancels[m]()
		}
	}()

	own.waitFor(t, []int{0, 1, 2}, 30*time.Second)

	// Member 2 stops: its partitions move to the other two.
	cancels[2]()
	select {
	case err := <-results[2]:
		if err != nil {
			t.Fatalf("RunGroup of the stopped member = %v, want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("RunGroup did not return after its context ended")
	}
	own.waitFor(t, []int{0, 1}, 30*time.Second)

	for m := range 2 {
		cancels[m]()
		if err := <-results[m]; err != nil {
			t.Errorf("RunGroup of member %d = %v, want nil", m, err)
		}
	}
	own.mu.Lock()
	defer own.mu.Unlock()
	for _, o := range own.overlaps {
		t.Error(o)
	}
}
