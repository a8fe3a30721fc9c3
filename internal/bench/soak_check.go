package bench

import (
	"hash/maphash"
	"sort"
	"sync"
)

// eventSeed hashes event keys (source and id) into the compact ids a
// follower keeps, so that twenty followers of a long soak hold eight bytes
// per event instead of its strings.
var eventSeed = maphash.MakeSeed()

// eventKey is the compact id of the event with source and id (an event's id
// is unique within its source).
func eventKey(source, id string) uint64 {
	return maphash.String(eventSeed, source+"\x00"+id)
}

// eventSeq records the events seen, per subject in the order seen. It is
// safe for concurrent use.
type eventSeq struct {
	mu        sync.Mutex
	bySubject map[string][]uint64
	n         int
}

func newEventSeq() *eventSeq { return &eventSeq{bySubject: map[string][]uint64{}} }

// add records one event of subject.
func (s *eventSeq) add(subject string, key uint64) {
	s.mu.Lock()
	s.bySubject[subject] = append(s.bySubject[subject], key)
	s.n++
	s.mu.Unlock()
}

// len answers how many events were recorded.
func (s *eventSeq) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// has reports whether any event of subject was recorded.
func (s *eventSeq) has(subject string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bySubject[subject]) > 0
}

// seqDiff is how a follower's events differ from the log's.
type seqDiff struct {
	// Lost are events of the log the follower never saw; Doubled are events it
	// saw more than once (each extra time counts); Extra are events it saw that
	// the log does not hold; OutOfOrder are subjects whose events, without the
	// lost and doubled, came in another order than the log's.
	Lost, Doubled, Extra, OutOfOrder int
}

// compareSeq compares what a follower saw with the log: every event of
// the log exactly once, in the log's order per subject.
func compareSeq(log, got *eventSeq) seqDiff {
	log.mu.Lock()
	defer log.mu.Unlock()
	got.mu.Lock()
	defer got.mu.Unlock()
	var d seqDiff
	subjects := make([]string, 0, len(log.bySubject)+len(got.bySubject))
	for s := range log.bySubject {
		subjects = append(subjects, s)
	}
	for s := range got.bySubject {
		if _, ok := log.bySubject[s]; !ok {
			subjects = append(subjects, s)
		}
	}
	sort.Strings(subjects)
	for _, s := range subjects {
		want, have := log.bySubject[s], got.bySubject[s]
		inLog := make(map[uint64]bool, len(want))
		for _, k := range want {
			inLog[k] = true
		}
		seen := make(map[uint64]bool, len(have))
		var firsts []uint64
		for _, k := range have {
			switch {
			case !inLog[k]:
				d.Extra++
			case seen[k]:
				d.Doubled++
			default:
				seen[k] = true
				firsts = append(firsts, k)
			}
		}
		var kept []uint64
		for _, k := range want {
			if seen[k] {
				kept = append(kept, k)
			} else {
				d.Lost++
			}
		}
		for i := range kept {
			if kept[i] != firsts[i] {
				d.OutOfOrder++
				break
			}
		}
	}
	return d
}
