package bench

import (
	"math"
	"sync/atomic"
	"time"
)

// Latency histogram bounds: buckets grow by histGrowth from histMin, so a
// percentile read from it is within 2% of the true value, and a soak of any
// length keeps the same few kilobytes per endpoint.
const (
	histMin     = 10 * time.Microsecond
	histGrowth  = 1.02
	histBuckets = 1000 // histMin × 1.02^1000 ≈ 4 hours: every request fits
)

// histogram counts durations in logarithmic buckets. It is safe for
// concurrent use; its size does not grow with the number of samples.
type histogram struct {
	counts [histBuckets]atomic.Int64
	n      atomic.Int64
	max    atomic.Int64 // nanoseconds
}

// add counts one duration.
func (h *histogram) add(d time.Duration) {
	i := 0
	if d > histMin {
		i = int(math.Log(float64(d)/float64(histMin)) / math.Log(histGrowth))
	}
	h.counts[min(i, histBuckets-1)].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

// upper is the largest duration bucket i holds.
func upper(i int) time.Duration {
	return time.Duration(float64(histMin) * math.Pow(histGrowth, float64(i+1)))
}

// quantile answers the duration below which a fraction q of the samples
// fall (the upper bound of the bucket that holds it, never above the
// largest sample); 0 without samples.
func (h *histogram) quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(n)))
	var seen int64
	for i := range h.counts {
		if seen += h.counts[i].Load(); seen >= max(rank, 1) {
			return min(upper(i), time.Duration(h.max.Load()))
		}
	}
	return time.Duration(h.max.Load())
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
