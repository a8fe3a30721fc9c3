package sqlitelog

import (
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/logtest"
)

func TestReadFiltered(t *testing.T) {
	t.Parallel()
	l, _ := openTemp(t, Options{})
	// 30 events about service-0 … service-9 in turn, one millisecond apart.
	evs := logtest.MakeEnvelopes("f", 30, 64)
	for i := range evs {
		if i%3 == 0 {
			evs[i].Type = string(event.TypeEntityRemoved)
		}
		if i%2 == 0 {
			evs[i].Actor = "location:abc"
		}
		if i%5 == 0 {
			evs[i].CorrelationID = "task-1"
		}
	}
	if _, err := l.Append(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	pick := func(keep func(i int, e event.Envelope) bool) []int64 {
		var ps []int64
		for i, e := range evs {
			if keep(i, e) {
				ps = append(ps, e.Position)
			}
		}
		return ps
	}
	t0 := evs[0].Time
	tests := []struct {
		name  string
		after int64
		limit int
		f     Filter
		want  []int64
	}{
		{name: "zero filter", f: Filter{}, want: pick(func(int, event.Envelope) bool { return true })},
		{name: "subject", f: Filter{Subject: "component:default/service-3"},
			want: pick(func(i int, _ event.Envelope) bool { return i%10 == 3 })},
		{name: "one type", f: Filter{Types: []string{string(event.TypeEntityRemoved)}},
			want: pick(func(i int, _ event.Envelope) bool { return i%3 == 0 })},
		{name: "two types", f: Filter{Types: []string{string(event.TypeEntityRemoved), string(event.TypeEntityUpserted)}},
			want: pick(func(int, event.Envelope) bool { return true })},
		{name: "actor", f: Filter{Actor: "location:abc"},
			want: pick(func(i int, _ event.Envelope) bool { return i%2 == 0 })},
		{name: "correlation", f: Filter{Correlation: "task-1"},
			want: pick(func(i int, _ event.Envelope) bool { return i%5 == 0 })},
		{name: "time range from inclusive to exclusive",
			f:    Filter{From: t0.Add(5 * time.Millisecond), To: t0.Add(9 * time.Millisecond)},
			want: pick(func(i int, _ event.Envelope) bool { return i >= 5 && i < 9 })},
		{name: "bounds far outside the stored range",
			f:    Filter{From: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)},
			want: pick(func(int, event.Envelope) bool { return true })},
		{name: "all combined", f: Filter{
			Subject: "component:default/service-6", Types: []string{string(event.TypeEntityRemoved)},
			Actor: "location:abc", From: t0.Add(time.Millisecond),
		}, want: pick(func(i int, _ event.Envelope) bool { return i%10 == 6 && i%3 == 0 && i%2 == 0 && i >= 1 })},
		{name: "after and limit page through", after: evs[4].Position, limit: 2,
			f:    Filter{Subject: "component:default/service-5"},
			want: []int64{evs[5].Position, evs[15].Position}},
		{name: "no match", f: Filter{Subject: "component:default/nothing"}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := l.ReadFiltered(t.Context(), tt.after, tt.limit, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d events, want %d (%v)", len(got), len(tt.want), tt.want)
			}
			for i, e := range got {
				if e.Position != tt.want[i] {
					t.Fatalf("event %d at position %d, want %d", i, e.Position, tt.want[i])
				}
				if d := logtest.Diff(evs[e.Position-1], e); d != "" {
					t.Fatal(d)
				}
			}
		})
	}
}
