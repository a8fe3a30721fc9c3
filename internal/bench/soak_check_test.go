package bench

import (
	"testing"
	"time"
)

func TestCompareSeq(t *testing.T) {
	t.Parallel()
	logOf := func(evs ...[2]string) *eventSeq {
		s := newEventSeq()
		for _, e := range evs {
			s.add(e[0], eventKey("/backlot/catalog", e[1]))
		}
		return s
	}
	a1, a2, a3 := [2]string{"component:default/a", "1"}, [2]string{"component:default/a", "2"}, [2]string{"component:default/a", "3"}
	b1, b2 := [2]string{"component:default/b", "4"}, [2]string{"component:default/b", "5"}
	log := logOf(a1, b1, a2, b2, a3)
	for _, tc := range []struct {
		name string
		got  *eventSeq
		want seqDiff
	}{
		{"every event once, subjects interleaved otherwise", logOf(b1, a1, a2, b2, a3), seqDiff{}},
		{"one lost", logOf(a1, b1, a3, b2), seqDiff{Lost: 1}},
		{"one doubled", logOf(a1, b1, a2, a2, b2, a3), seqDiff{Doubled: 1}},
		{"a subject out of order", logOf(a2, a1, b1, b2, a3), seqDiff{OutOfOrder: 1}},
		{"an event the log does not hold", logOf(a1, b1, a2, b2, a3, [2]string{"component:default/c", "9"}), seqDiff{Extra: 1}},
		{"nothing received", logOf(), seqDiff{Lost: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := compareSeq(log, tc.got); got != tc.want {
				t.Errorf("compareSeq = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestHistogramQuantiles(t *testing.T) {
	t.Parallel()
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, time.Second}} {
		got := h.quantile(tc.q)
		if got < tc.want || float64(got) > float64(tc.want)*histGrowth {
			t.Errorf("quantile(%v) = %s, want %s to %s", tc.q, got, tc.want, time.Duration(float64(tc.want)*histGrowth))
		}
	}
	if got := h.quantile(1); got != time.Second {
		t.Errorf("quantile(1) = %s, want the largest sample 1s", got)
	}
	var empty histogram
	if got := empty.quantile(0.5); got != 0 {
		t.Errorf("empty quantile = %s, want 0", got)
	}
}
