// The race detector makes sync.Pool drop what it is given at random, so the
// allocations of a pooled form are counted only in builds without it (as the
// standard library counts its own).

//go:build !race

package event

import (
	"crypto/sha256"
	"testing"
)

// TestCanonicalFormAllocatesNothingOnceWarm checks that the canonical form a
// digest hashes reuses the buffers of the digests before: the policy
// evaluator appends verdicts by the thousand, and each one's form once cost
// a copy of its data, a copy of each reordered object and the stack of its
// members.
func TestCanonicalFormAllocatesNothingOnceWarm(t *testing.T) {
	e := verdictEnvelope()
	if _, fast := fastCanonical(e.Data); !fast {
		t.Fatal("a verdict's data does not take the fast path")
	}
	h := sha256.New()
	if n := testing.AllocsPerRun(100, func() { writeCanonicalJSON(h, e.Data) }); n != 0 {
		t.Errorf("the canonical form of a verdict allocates %.1f times, want 0", n)
	}
}
