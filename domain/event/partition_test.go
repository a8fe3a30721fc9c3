package event

import (
	"context"
	"strings"
	"testing"
)

func TestPositionsCoverBehindAndRoundTrip(t *testing.T) {
	evs := []Envelope{{Partition: 0, Position: 4}, {Partition: 2, Position: 9}, {Partition: 0, Position: 7}}
	want := PositionsOf(evs)
	if want[0] != 7 || want[2] != 9 || len(want) != 2 {
		t.Fatalf("PositionsOf = %v", want)
	}
	have := Positions{0: 7, 1: 100, 2: 5}
	if have.Covers(want) {
		t.Fatal("partition 2 at 5 covers 9")
	}
	if n := have.Behind(want); n != 4 {
		t.Fatalf("Behind = %d, want 4", n)
	}
	have.Merge(want)
	if !have.Covers(want) || have[1] != 100 {
		t.Fatalf("after Merge: %v", have)
	}
	s := have.String()
	if s != "0:7,1:100,2:9" {
		t.Fatalf("String = %q", s)
	}
	back, err := ParsePositions(s)
	if err != nil || back.String() != s {
		t.Fatalf("ParsePositions(%q) = %v, %v", s, back, err)
	}
	if p, err := ParsePositions("42"); err != nil || p[0] != 42 {
		t.Fatalf("bare number: %v %v", p, err)
	}
	for _, bad := range []string{"x", "0:", "1:-3", "-1:3", "0:1,zz"} {
		if _, err := ParsePositions(bad); err == nil || !strings.Contains(err.Error(), "positions") {
			t.Errorf("ParsePositions(%q) = %v, want an error", bad, err)
		}
	}
}

type fakeLog struct {
	Log
	head int64
}

func (f fakeLog) Head(context.Context) (int64, error) { return f.head, nil }

func TestSinglePartitionHasOnlyPartitionZero(t *testing.T) {
	l := SinglePartition(fakeLog{head: 12})
	parts, _ := l.Partitions(t.Context())
	if len(parts) != 1 || parts[0] != 0 {
		t.Fatalf("Partitions = %v", parts)
	}
	heads, err := l.Heads(t.Context())
	if err != nil || heads[0] != 12 {
		t.Fatalf("Heads = %v, %v", heads, err)
	}
	if _, err := l.ReadPartition(t.Context(), 1, 0, 10); err == nil {
		t.Fatal("reading partition 1 of a single-partition log succeeded")
	}
}
