package audit

import (
	"context"
	"fmt"
	"slices"

	"github.com/segmentio/kafka-go"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/kafkalog"
	"backlot.dev/backlot/projections/history"
)

// Kafka serves the audit endpoints from the Kafka event log. Kafka keeps no
// chain beside its records; the history read model's digests are the reference
// a verification compares the log with.
type Kafka struct {
	// Log is the Kafka event log; required.
	Log *kafkalog.Log
	// History is the history read model; required by Verify.
	History history.Reader
}

// matches reports whether ev passes q's filters.
func matches(ev *event.Envelope, q EventQuery) bool {
	switch {
	case q.Subject != "" && ev.Subject != q.Subject,
		q.Actor != "" && ev.Actor != q.Actor,
		q.Correlation != "" && ev.CorrelationID != q.Correlation,
		len(q.Types) > 0 && !slices.Contains(q.Types, ev.Type),
		!q.From.IsZero() && ev.Time.Before(q.From),
		!q.To.IsZero() && !ev.Time.Before(q.To):
		return false
	}
	return true
}

// Events scans the partitions after the cursor (only the subject's partition
// when a subject is given) and answers the matching events in time order.
func (a Kafka) Events(ctx context.Context, q EventQuery) ([]event.Envelope, error) {
	parts, err := a.Log.Partitions(ctx)
	if err != nil {
		return nil, err
	}
	if q.Subject != "" {
		parts = []int32{partitionOf(q.Subject, parts)}
	}
	heads, err := a.Log.Heads(ctx)
	if err != nil {
		return nil, err
	}
	var found []event.Envelope
	for _, p := range parts {
		after, n := q.After[p], 0
		for n < q.Limit && after < heads[p] {
			evs, err := a.Log.ReadPartition(ctx, p, after, 1000)
			if err != nil {
				return nil, err
			}
			if len(evs) == 0 {
				break
			}
			for i := range evs {
				after = evs[i].Position
				if matches(&evs[i], q) {
					found = append(found, evs[i])
					if n++; n == q.Limit {
						break
					}
				}
			}
		}
	}
	slices.SortFunc(found, func(x, y event.Envelope) int {
		if c := x.Time.Compare(y.Time); c != 0 {
			return c
		}
		if x.Partition != y.Partition {
			return int(x.Partition - y.Partition)
		}
		return int(x.Position - y.Position)
	})
	if len(found) > q.Limit {
		found = found[:q.Limit]
	}
	return found, nil
}

// partitionOf returns the partition of parts that Kafka's default balancer
// (murmur2 of the key, as kafkalog writes) puts the subject's events in.
func partitionOf(subject string, parts []int32) int32 {
	ints := make([]int, len(parts))
	for i, p := range parts {
		ints[i] = int(p)
	}
	return int32(kafka.Murmur2Balancer{}.Balance(kafka.Message{Key: []byte(subject)}, ints...))
}

// Verify compares every event the history recorded with the record at its
// place in the Kafka log: a record that is gone (retention, a recreated topic)
// or holds other content is named by its event id.
func (a Kafka) Verify(ctx context.Context, _ map[int64]string, progress func(done, total int64)) (event.VerifyReport, error) {
	var rep event.VerifyReport
	heads, err := a.Log.Heads(ctx)
	if err != nil {
		return rep, err
	}
	var total int64
	for _, h := range heads {
		total += h
	}
	var after history.Pos
	for {
		ds, err := a.History.Digests(ctx, after, 1000)
		if err != nil {
			return rep, fmt.Errorf("history digests: %w", err)
		}
		if len(ds) == 0 {
			return rep, nil
		}
		// Digests come in log order: partition, then position.
		for i := 0; i < len(ds); {
			j := i
			for j < len(ds) && ds[j].Partition == ds[i].Partition {
				j++
			}
			evs, err := a.Log.ReadPartition(ctx, ds[i].Partition, ds[i].Position-1, int(ds[j-1].Position-ds[i].Position+1))
			if err != nil {
				return rep, err
			}
			byPos := make(map[int64]*event.Envelope, len(evs))
			for k := range evs {
				byPos[evs[k].Position] = &evs[k]
			}
			for _, d := range ds[i:j] {
				rep.Events++
				ev := byPos[d.Position]
				switch {
				case ev == nil:
					rep.Problems = append(rep.Problems, event.Problem{Position: d.Position, EventID: d.EventID, Kind: "missing",
						Detail: fmt.Sprintf("event %s (%s, %s) is in the history at partition %d position %d but not in the log", d.EventID, d.Type, d.Subject, d.Partition, d.Position)})
				case ev.ID != d.EventID || event.Digest(ev) != d.Digest:
					rep.Problems = append(rep.Problems, event.Problem{Position: d.Position, EventID: d.EventID, Kind: "history",
						Detail: fmt.Sprintf("the history recorded event %s at partition %d position %d; the log holds %s there, or different content", d.EventID, d.Partition, d.Position, ev.ID)})
				}
				rep.Head = max(rep.Head, d.Position)
			}
			i = j
		}
		if progress != nil {
			progress(rep.Events, total)
		}
		after = ds[len(ds)-1].Pos
	}
}
