package event

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Positions maps each partition of a log to a position in it. A read model records
// the Positions it has applied; a write returns the Positions of its events, and a
// reader that has applied at least those reads the write (a read-your-writes token).
// The embedded log has one partition, 0.
type Positions map[int32]int64

// PositionsOf returns, for each partition the envelopes were appended to, the
// highest position among them.
func PositionsOf(evs []Envelope) Positions {
	p := make(Positions, 1)
	for i := range evs {
		if evs[i].Position > p[evs[i].Partition] {
			p[evs[i].Partition] = evs[i].Position
		}
	}
	return p
}

// Covers reports whether p has reached q in every partition q names.
func (p Positions) Covers(q Positions) bool {
	for part, pos := range q {
		if p[part] < pos {
			return false
		}
	}
	return true
}

// Behind returns how many positions p still lacks to cover q, summed over partitions.
func (p Positions) Behind(q Positions) int64 {
	var n int64
	for part, pos := range q {
		if d := pos - p[part]; d > 0 {
			n += d
		}
	}
	return n
}

// Merge raises p to q in every partition where q is ahead.
func (p Positions) Merge(q Positions) {
	for part, pos := range q {
		if pos > p[part] {
			p[part] = pos
		}
	}
}

// Clone returns a copy of p.
func (p Positions) Clone() Positions {
	c := make(Positions, len(p))
	for k, v := range p {
		c[k] = v
	}
	return c
}

// String renders p as "partition:position" pairs in partition order, "0:12,3:40";
// ParsePositions reads it back.
func (p Positions) String() string {
	parts := make([]int32, 0, len(p))
	for k := range p {
		parts = append(parts, k)
	}
	slices.Sort(parts)
	var b strings.Builder
	for i, k := range parts {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(int64(k), 10))
		b.WriteByte(':')
		b.WriteString(strconv.FormatInt(p[k], 10))
	}
	return b.String()
}

// ParsePositions reads the form String writes. A bare number is partition 0's
// position, the token of a single-partition log.
func ParsePositions(s string) (Positions, error) {
	p := Positions{}
	s = strings.TrimSpace(s)
	if s == "" {
		return p, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return nil, fmt.Errorf("positions %q: negative position", s)
		}
		p[0] = n
		return p, nil
	}
	for _, pair := range strings.Split(s, ",") {
		ps, os, ok := strings.Cut(pair, ":")
		part, err1 := strconv.ParseInt(ps, 10, 32)
		pos, err2 := strconv.ParseInt(os, 10, 64)
		if !ok || err1 != nil || err2 != nil || part < 0 || pos < 0 {
			return nil, fmt.Errorf("positions %q: %q is not partition:position", s, pair)
		}
		p[int32(part)] = pos
	}
	return p, nil
}

// PartitionedLog is the port of a log split into partitions, as Kafka topics are:
// events with the same subject go to the same partition, in order, and positions
// increase within a partition. Read models fold each partition on its own and
// record a position per partition.
type PartitionedLog interface {
	// Append writes the events, sets Partition and Position on each envelope, and
	// returns the last position written.
	Append(ctx context.Context, events []Envelope) (int64, error)
	// Partitions lists the partitions of the log.
	Partitions(ctx context.Context) ([]int32, error)
	// ReadPartition returns up to limit events of one partition with positions
	// greater than after, in order.
	ReadPartition(ctx context.Context, partition int32, after int64, limit int) ([]Envelope, error)
	// Heads returns the last position of every partition.
	Heads(ctx context.Context) (Positions, error)
	// WaitPartition blocks until the partition's head is greater than after or ctx
	// ends, and returns the head.
	WaitPartition(ctx context.Context, partition int32, after int64) (int64, error)
	// Close releases the log's resources.
	Close() error
}

// SinglePartition presents a totally ordered Log as a PartitionedLog with one
// partition, 0.
func SinglePartition(l Log) PartitionedLog { return single{l} }

type single struct{ Log }

func (s single) Partitions(context.Context) ([]int32, error) { return []int32{0}, nil }

func (s single) ReadPartition(ctx context.Context, partition int32, after int64, limit int) ([]Envelope, error) {
	if partition != 0 {
		return nil, fmt.Errorf("event log: partition %d does not exist (the log has one, 0)", partition)
	}
	return s.Read(ctx, after, limit)
}

func (s single) Heads(ctx context.Context) (Positions, error) {
	h, err := s.Head(ctx)
	if err != nil {
		return nil, err
	}
	return Positions{0: h}, nil
}

func (s single) WaitPartition(ctx context.Context, partition int32, after int64) (int64, error) {
	if partition != 0 {
		return 0, fmt.Errorf("event log: partition %d does not exist (the log has one, 0)", partition)
	}
	return s.Wait(ctx, after)
}
