package migration

import (
	"time"
)

// Plan splits n targets into the spec's waves, in order: each size of
// Rollout.Waves while targets last, then the rest in one last wave.
func (r Rollout) Plan(n int) []int {
	var out []int
	left := n
	for _, w := range r.Waves {
		if left == 0 {
			break
		}
		w = min(w, left)
		out = append(out, w)
		left -= w
	}
	if left > 0 {
		out = append(out, left)
	}
	return out
}

// WaveProgress is where a wave stands: how many of its targets are running, done
// (opened or already migrated), failed, or waiting.
type WaveProgress struct {
	Running, Done, Failed, Waiting int
}

// Finished reports whether every target of the wave is done or failed.
func (p WaveProgress) Finished() bool { return p.Running == 0 && p.Waiting == 0 }

// Stop reports whether a finished wave's failures stop the rollout: its
// failed share is above StopOnFailureRate (0 never stops).
func (r Rollout) Stop(p WaveProgress) bool {
	total := p.Done + p.Failed
	if r.StopOnFailureRate <= 0 || !p.Finished() || total == 0 {
		return false
	}
	return float64(p.Failed)/float64(total) > r.StopOnFailureRate
}

// Slots returns how many targets may start now: what MaxConcurrent leaves
// beside the running ones, and what MaxPerHour leaves given the start times
// of the last hour (now excluded starts older than an hour). When the hourly
// budget is spent, next is when the oldest start of the hour leaves it.
func (r Rollout) Slots(running int, starts []time.Time, now time.Time) (n int, next time.Time) {
	n = r.MaxConcurrent - running
	if n <= 0 {
		return 0, time.Time{}
	}
	if r.MaxPerHour <= 0 {
		return n, time.Time{}
	}
	hourAgo := now.Add(-time.Hour)
	var recent []time.Time
	for _, s := range starts {
		if s.After(hourAgo) {
			recent = append(recent, s)
		}
	}
	left := r.MaxPerHour - len(recent)
	if left > 0 {
		return min(n, left), time.Time{}
	}
	oldest := recent[0]
	for _, s := range recent {
		if s.Before(oldest) {
			oldest = s
		}
	}
	return 0, oldest.Add(time.Hour)
}
