package migration

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/workflows/githost"
)

// Register registers MigrationWorkflow, RepoWorkflow and a's activities
// under their names (WorkflowName, RepoWorkflowName, Activity*).
func Register(r worker.Registry, a *Activities) {
	r.RegisterWorkflowWithOptions(MigrationWorkflow, workflow.RegisterOptions{Name: WorkflowName})
	r.RegisterWorkflowWithOptions(RepoWorkflow, workflow.RegisterOptions{Name: RepoWorkflowName})
	r.RegisterWorkflowWithOptions(DryRunWorkflow, workflow.RegisterOptions{Name: DryRunWorkflowName})
	for name, fn := range map[string]any{
		ActivityPrepare:      a.Prepare,
		ActivityOpenChange:   a.OpenChange,
		ActivityTrack:        a.Track,
		ActivityCloseChanges: a.CloseChanges,
		ActivityRecord:       a.RecordEvents,
		ActivityPreview:      a.Preview,
	} {
		r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
}

// MigrationWorkflow (registered as WorkflowName) runs a migration over its
// targets. It starts one RepoWorkflow child per target in a sliding window
// bounded by the rollout's MaxConcurrent and MaxPerHour, wave by wave
// (Rollout.Plan): a wave starts once every target of the one before is
// done, failed or has its change request open, and a wave whose failed share
// is over StopOnFailureRate stops the rollout. It tracks the open change
// requests (every PollInterval, or at once on SignalChangeUpdated), merging
// them once checks pass when the spec's merge is auto. It answers
// QueryProgress and takes the Signal* signals. Every transition of a target
// and of the migration is recorded as a catalog event, in order.
//
// It ends when every target is merged, unchanged or closed; when cancelled;
// or, when only failed targets are left or the rollout stopped, after the
// retry window passes without retry-failed, resume or cancel. Once the
// history passes HistoryLimit (or Temporal suggests it) it stops starting
// children, waits for the running ones, and continues as new with its State.
func MigrationWorkflow(ctx workflow.Context, in Input) (Summary, error) {
	r, err := newRun(ctx, in)
	if err != nil {
		return Summary{}, err
	}
	return r.loop()
}

// run is one run of a migration workflow. Its coroutines (children, tracker,
// poller, recorder, signals) share it; every change bumps version, which
// wakes the main loop.
type run struct {
	ctx  workflow.Context
	in   Input
	st   *State
	plan []int
	// waveOf is each target's wave; the wave counters count unfinished
	// (pending or targeted) and failed targets.
	waveOf                      []int
	waveTotal, waveUnfinished   []int
	waveFailed                  []int
	counts                      map[TargetState]int
	queue                       []int
	cancels                     []workflow.CancelFunc
	running, tracking, closing  int
	due                         []int
	isDue                       []bool
	events                      []RecordItem
	recording, draining, worked bool
	finished                    bool
	version                     int
	wakeAt                      time.Time
}

func newRun(ctx workflow.Context, in Input) (*run, error) {
	if in.PollInterval <= 0 {
		in.PollInterval = DefaultPollInterval
	}
	if in.RetryWindow <= 0 {
		in.RetryWindow = DefaultRetryWindow
	}
	if in.HistoryLimit <= 0 {
		in.HistoryLimit = DefaultHistoryLimit
	}
	if in.Spec.Spec.Rollout.MaxConcurrent <= 0 {
		in.Spec.Spec.Rollout.MaxConcurrent = 10
	}
	n := len(in.Targets)
	st := in.State
	in.State = nil
	first := st == nil
	if first {
		st = &State{Rows: make([]Row, n)}
		for i := range st.Rows {
			st.Rows[i].State = StatePending
		}
	}
	if len(st.Rows) != n {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("migration %s: state has %d rows for %d targets", in.ID, len(st.Rows), n), "BadInput", nil)
	}
	r := &run{ctx: ctx, in: in, st: st, plan: in.Spec.Spec.Rollout.Plan(n), waveOf: make([]int, n), counts: map[TargetState]int{},
		cancels: make([]workflow.CancelFunc, n), isDue: make([]bool, n)}
	r.waveTotal = make([]int, len(r.plan))
	r.waveUnfinished = make([]int, len(r.plan))
	r.waveFailed = make([]int, len(r.plan))
	i := 0
	for w, size := range r.plan {
		for range size {
			r.waveOf[i] = w
			i++
		}
	}
	for i := range st.Rows {
		row := &st.Rows[i]
		if row.State == StateTargeted || row.State == "" {
			// A run drains its children before it continues as new: a
			// targeted row here started nothing that still runs.
			row.State = StatePending
		}
		w := r.waveOf[i]
		r.counts[row.State]++
		r.waveTotal[w]++
		switch row.State {
		case StatePending:
			r.waveUnfinished[w]++
			r.queue = append(r.queue, i)
		case StateFailed:
			r.waveFailed[w]++
		}
		if row.State.open() {
			r.markDue(i)
		}
	}
	if err := workflow.SetQueryHandler(ctx, QueryProgress, func() (Report, error) { return r.report(), nil }); err != nil {
		return nil, err
	}
	if first {
		r.recordMigration(MigrationStarted, "")
		r.burndown()
	}
	r.listen()
	workflow.Go(ctx, r.recorder)
	workflow.Go(ctx, r.tracker)
	workflow.Go(ctx, r.poller)
	return r, nil
}

func (r *run) bump() { r.version++ }

func (r *run) now() time.Time { return workflow.Now(r.ctx).UTC() }

// loop is the main loop: start what may start, end or continue as new when
// it is time, else wait for a change.
func (r *run) loop() (Summary, error) {
	ctx := r.ctx
	for {
		r.advance()
		if r.st.Cancelled {
			if r.running == 0 && r.tracking == 0 && r.closing == 0 {
				return r.end(MigrationCancelled)
			}
		} else if len(r.queue) == 0 && r.running == 0 && r.counts[StateFailed] == 0 && r.open() == 0 {
			r.finished = true
			return r.end(MigrationCompleted)
		}
		info := workflow.GetInfo(ctx)
		if !r.draining && !r.st.Cancelled && r.worked && (info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() >= r.in.HistoryLimit) {
			r.draining = true
		}
		if r.draining && r.running == 0 && r.tracking == 0 && r.closing == 0 {
			if err := r.flush(); err != nil {
				return Summary{}, err
			}
			if !r.drainSignals() && r.closing == 0 && !r.st.Cancelled {
				next := r.in
				st := *r.st
				st.Runs++
				next.State = &st
				return Summary{}, workflow.NewContinueAsNewError(ctx, WorkflowName, next)
			}
			continue
		}
		r.start()
		seen := r.version
		changed := func() bool { return r.version != seen }
		busy := r.running > 0 || r.open() > 0 || r.tracking > 0 || r.closing > 0 || !r.wakeAt.IsZero() || r.startable()
		if busy || r.st.Cancelled || (r.st.Paused && len(r.queue) > 0 && !r.st.Stopped) {
			r.st.IdleSince = time.Time{}
			if err := workflow.Await(ctx, changed); err != nil {
				return Summary{}, err
			}
			continue
		}
		// Only failed targets, or a stopped rollout, are left: wait for
		// retry-failed, resume or cancel within the retry window.
		if r.st.IdleSince.IsZero() {
			r.st.IdleSince = r.now()
		}
		left := r.windowEnd().Sub(r.now())
		ok := false
		if left > 0 {
			var err error
			if ok, err = workflow.AwaitWithTimeout(ctx, left, changed); err != nil {
				return Summary{}, err
			}
		}
		if !ok {
			if r.st.Stopped {
				return r.end(MigrationStopped)
			}
			r.st.Reason = fmt.Sprintf("%d targets failed and were not retried within the retry window", r.counts[StateFailed])
			return r.end(MigrationCompleted)
		}
	}
}

// windowEnd is when a migration left with failures ends: the retry window
// after it became idle, or the end of the spec's deadline when later.
func (r *run) windowEnd() time.Time {
	end := r.st.IdleSince.Add(r.in.RetryWindow)
	if d, err := time.Parse("2006-01-02", r.in.Spec.Spec.Deadline); err == nil {
		if d = d.Add(24 * time.Hour); d.After(end) {
			end = d
		}
	}
	return end
}

// end records the migration's completion (a stop or a cancellation was
// recorded when it happened) and returns its summary.
func (r *run) end(state string) (Summary, error) {
	if state == MigrationCompleted {
		r.recordMigration(state, r.st.Reason)
	}
	if err := r.flush(); err != nil {
		return Summary{}, err
	}
	return Summary{ID: r.in.ID, State: state, Reason: r.st.Reason, Counts: r.countsCopy()}, nil
}

// flush waits until every recorded event is appended.
func (r *run) flush() error {
	return workflow.Await(r.ctx, func() bool { return len(r.events) == 0 && !r.recording })
}

func (r *run) open() int { return r.counts[StateOpened] + r.counts[StateChecksPassed] }

// startable reports whether a queued target may start now, slots aside.
func (r *run) startable() bool {
	return !r.st.Paused && !r.st.Stopped && !r.st.Cancelled && !r.draining && len(r.queue) > 0 && r.waveOf[r.queue[0]] <= r.st.Passed
}

// advance passes the waves whose targets are all finished, and stops the
// rollout at one whose failed share is over the rate (the last wave has
// nothing after it to stop).
func (r *run) advance() {
	for !r.st.Stopped && !r.st.Cancelled && r.st.Passed < len(r.plan) && r.waveUnfinished[r.st.Passed] == 0 {
		w := r.st.Passed
		p := WaveProgress{Done: r.waveTotal[w] - r.waveFailed[w], Failed: r.waveFailed[w]}
		if w < len(r.plan)-1 && r.in.Spec.Spec.Rollout.Stop(p) {
			r.st.Stopped = true
			r.st.Reason = fmt.Sprintf("wave %d: %d of %d targets failed, over the stop rate of %g", w+1, p.Failed, r.waveTotal[w], r.in.Spec.Spec.Rollout.StopOnFailureRate)
			r.recordMigration(MigrationStopped, r.st.Reason)
			r.bump()
			return
		}
		r.st.Passed++
	}
}

// start starts queued targets while the window and the hourly budget allow.
func (r *run) start() {
	for r.startable() {
		now := r.now()
		ro := r.in.Spec.Spec.Rollout
		if ro.MaxPerHour > 0 {
			r.st.Starts = slices.DeleteFunc(r.st.Starts, func(t time.Time) bool { return !t.After(now.Add(-time.Hour)) })
		}
		n, next := ro.Slots(r.running, r.st.Starts, now)
		if n == 0 {
			if !next.IsZero() && (r.wakeAt.IsZero() || next.Before(r.wakeAt)) {
				r.wakeAt = next
				workflow.Go(r.ctx, func(ctx workflow.Context) {
					workflow.Sleep(ctx, next.Sub(now))
					if r.wakeAt.Equal(next) {
						r.wakeAt = time.Time{}
					}
					r.bump()
				})
			}
			return
		}
		for ; n > 0 && r.startable(); n-- {
			i := r.queue[0]
			r.queue = r.queue[1:]
			r.startChild(i, now)
		}
	}
}

// startChild starts target i's child workflow and a coroutine that takes
// its result.
func (r *run) startChild(i int, now time.Time) {
	t := r.in.Targets[i]
	row := &r.st.Rows[i]
	row.Attempts++
	row.Error, row.Output = "", ""
	r.set(i, StateTargeted)
	r.recordTarget(i, StateTargeted, "")
	if r.in.Spec.Spec.Rollout.MaxPerHour > 0 {
		r.st.Starts = append(r.st.Starts, now)
	}
	timeout, _ := r.in.Spec.Timeout()
	cctx, cancel := workflow.WithCancel(r.ctx)
	cctx = workflow.WithChildOptions(cctx, workflow.ChildWorkflowOptions{WorkflowID: ChildID(r.in.ID, t.Ref)})
	f := workflow.ExecuteChildWorkflow(cctx, RepoWorkflowName, RepoInput{Migration: r.in.ID, Target: t, Script: r.in.Spec.Spec.Change.Script,
		Timeout: timeout, Branch: r.in.Spec.Spec.PullRequest.Branch, Network: r.in.Spec.Spec.Change.Network})
	r.cancels[i] = cancel
	r.running++
	workflow.Go(r.ctx, func(ctx workflow.Context) {
		var res RepoResult
		err := f.Get(ctx, &res)
		r.childDone(i, res, err)
	})
}

// childDone takes a child's result.
func (r *run) childDone(i int, res RepoResult, err error) {
	defer r.bump()
	r.running--
	r.cancels[i] = nil
	r.worked = true
	row := &r.st.Rows[i]
	switch {
	case err != nil && (temporal.IsCanceledError(err) || r.st.Cancelled):
		r.set(i, StateCancelled)
		row.Error = "migration cancelled"
		r.recordTarget(i, StateFailed, "")
	case err != nil:
		row.Error = err.Error()
		r.set(i, StateFailed)
		r.recordTarget(i, StateFailed, "")
	case res.State == StateUnchanged:
		r.set(i, StateUnchanged)
		r.recordTarget(i, StateUnchanged, "")
	case res.State == StateOpened:
		repo := res.Repo
		row.Repo, row.Change, row.ChangeURL = &repo, res.Change.Number, res.Change.URL
		r.set(i, StateOpened)
		r.recordTarget(i, StateOpened, "")
		r.markDue(i)
	default:
		row.Error, row.Output = res.Error, clip(res.Output, rowOutput)
		if res.Repo.RemoteURL != "" {
			repo := res.Repo
			row.Repo = &repo
		}
		r.set(i, StateFailed)
		r.recordTarget(i, StateFailed, res.Output)
	}
}

// set moves target i to state s, keeping the counters and the burndown.
func (r *run) set(i int, s TargetState) {
	row := &r.st.Rows[i]
	old := row.State
	if old == s {
		return
	}
	w := r.waveOf[i]
	unfinished := func(s TargetState) bool { return s == StatePending || s == StateTargeted }
	if unfinished(old) {
		r.waveUnfinished[w]--
	}
	if unfinished(s) {
		r.waveUnfinished[w]++
	}
	if old == StateFailed {
		r.waveFailed[w]--
	}
	if s == StateFailed {
		r.waveFailed[w]++
	}
	r.counts[old]--
	r.counts[s]++
	row.State = s
	if old.done() != s.done() {
		r.burndown()
	}
}

// burndown adds a point of the targets not yet done; points less than a
// minute apart are one, and the series thins out past burndownPoints.
func (r *run) burndown() {
	done := r.counts[StateMerged] + r.counts[StateUnchanged] + r.counts[StateClosed]
	p := BurndownPoint{Time: r.now(), Remaining: len(r.in.Targets) - done}
	b := r.st.Burndown
	if n := len(b); n > 1 && p.Time.Sub(b[n-2].Time) < time.Minute {
		b[n-1] = p
		return
	}
	b = append(b, p)
	if len(b) > burndownPoints {
		half := len(b) / 2
		thin := b[:0:0]
		for j := 0; j < half; j += 2 {
			thin = append(thin, b[j])
		}
		b = append(thin, b[half:]...)
	}
	r.st.Burndown = b
}

func (r *run) markDue(i int) {
	if !r.isDue[i] {
		r.isDue[i] = true
		r.due = append(r.due, i)
		r.bump()
	}
}

// tracker reads the due change requests in batches, one batch at a time.
func (r *run) tracker(ctx workflow.Context) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute, HeartbeatTimeout: heartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: 5},
	})
	for {
		if err := workflow.Await(ctx, func() bool { return len(r.due) > 0 && !r.st.Cancelled && !r.draining }); err != nil {
			return
		}
		var items []TrackItem
		for len(r.due) > 0 && len(items) < trackBatch {
			i := r.due[0]
			r.due = r.due[1:]
			r.isDue[i] = false
			if row := r.st.Rows[i]; row.State.open() && row.Repo != nil {
				items = append(items, TrackItem{Index: i, Repo: *row.Repo, Number: row.Change})
			}
		}
		if len(items) == 0 {
			continue
		}
		r.tracking++
		var res []TrackResult
		err := workflow.ExecuteActivity(actx, ActivityTrack, TrackInput{Items: items, Merge: r.in.Spec.Spec.Merge == "auto"}).Get(ctx, &res)
		r.tracking--
		if err == nil {
			r.worked = true
			for _, t := range res {
				r.tracked(t)
			}
		}
		r.bump()
	}
}

// tracked takes one change request as Track or CloseChanges read it.
func (r *run) tracked(t TrackResult) {
	i := t.Index
	if i < 0 || i >= len(r.st.Rows) || !r.st.Rows[i].State.open() {
		return
	}
	row := &r.st.Rows[i]
	c := t.Change
	switch {
	case t.Gone:
		row.Error = t.Error
		r.set(i, StateFailed)
		r.recordTarget(i, StateFailed, "")
		return
	case t.Error != "":
		row.Error = t.Error // read again at the next poll
		return
	}
	row.Error = ""
	if c.URL != "" {
		row.ChangeURL = c.URL
	}
	if c.Checks == githost.ChecksPassed && row.State == StateOpened && c.State != githost.ChangeClosed {
		r.set(i, StateChecksPassed)
		r.recordTarget(i, StateChecksPassed, "")
	}
	switch {
	case c.State == githost.ChangeMerged:
		r.set(i, StateMerged)
		r.recordTarget(i, StateMerged, "")
	case c.State == githost.ChangeClosed:
		r.set(i, StateClosed)
		r.recordTarget(i, StateClosed, "")
	case t.MergeError != "":
		row.Error = "merge: " + t.MergeError
		r.set(i, StateFailed)
		r.recordTarget(i, StateFailed, "")
	case c.Checks == githost.ChecksFailed:
		row.Error = "checks failed on " + c.Head
		r.set(i, StateFailed)
		r.recordTarget(i, StateFailed, "")
	}
}

// poller marks every open change request due every PollInterval.
func (r *run) poller(ctx workflow.Context) {
	for {
		if err := workflow.Await(ctx, func() bool { return r.open() > 0 && !r.st.Cancelled && !r.draining }); err != nil {
			return
		}
		if err := workflow.Sleep(ctx, r.in.PollInterval); err != nil {
			return
		}
		r.markOpenDue(func(int) bool { return true })
	}
}

func (r *run) markOpenDue(match func(i int) bool) {
	for i := range r.st.Rows {
		if r.st.Rows[i].State.open() && match(i) {
			r.markDue(i)
		}
	}
}

// recorder appends the recorded events in order, a batch at a time.
func (r *run) recorder(ctx workflow.Context) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: shortActivityTimeout,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	})
	for {
		if err := workflow.Await(ctx, func() bool { return len(r.events) > 0 }); err != nil {
			return
		}
		n := min(len(r.events), recordBatch)
		batch := slices.Clone(r.events[:n])
		r.recording = true
		info := workflow.GetInfo(ctx)
		seed := info.WorkflowExecution.ID + "/" + info.FirstRunID
		err := workflow.ExecuteActivity(actx, ActivityRecord, RecordInput{Migration: r.in.ID, Actor: r.in.Actor, Items: batch, Seed: seed}).Get(ctx, nil)
		r.recording = false
		if err != nil {
			workflow.GetLogger(ctx).Error("migration: events not recorded", "migration", r.in.ID, "events", n, "error", err)
		}
		r.events = r.events[n:]
		r.bump()
	}
}

// recordTarget queues the event of target i's transition to s; output is
// the script's output for a failed script.
func (r *run) recordTarget(i int, s TargetState, output string) {
	t, row := r.in.Targets[i], r.st.Rows[i]
	now := r.now()
	d := &event.MigrationTargetChanged{Migration: r.in.ID, Entity: t.Ref, Repo: t.Repo, State: string(s), Change: row.Change,
		ChangeURL: row.ChangeURL, Output: output, At: now}
	if s == StateFailed {
		d.Error = row.Error
	}
	r.st.Seq++
	r.events = append(r.events, RecordItem{Target: d, At: now, Seq: r.st.Seq})
}

// recordMigration queues the event of the migration's transition.
func (r *run) recordMigration(state, reason string) {
	now := r.now()
	r.st.Seq++
	r.events = append(r.events, RecordItem{At: now, Seq: r.st.Seq, Migration: &event.MigrationChanged{Migration: r.in.ID, Name: r.in.Spec.Metadata.Name,
		State: state, Reason: reason, Targets: len(r.in.Targets), Campaign: r.in.Spec.Spec.Campaign}})
}

// signals are the migration's signal channels, in a fixed order.
func (r *run) signals() []workflow.ReceiveChannel {
	ctx := r.ctx
	return []workflow.ReceiveChannel{
		workflow.GetSignalChannel(ctx, SignalPause), workflow.GetSignalChannel(ctx, SignalResume),
		workflow.GetSignalChannel(ctx, SignalCancel), workflow.GetSignalChannel(ctx, SignalRetryFailed),
		workflow.GetSignalChannel(ctx, SignalClosePRs), workflow.GetSignalChannel(ctx, SignalChangeUpdated),
	}
}

// listen handles signals as they come.
func (r *run) listen() {
	chans := r.signals()
	workflow.Go(r.ctx, func(ctx workflow.Context) {
		for {
			sel := workflow.NewSelector(ctx)
			for _, ch := range chans {
				sel.AddReceive(ch, func(c workflow.ReceiveChannel, more bool) { r.signal(c, false) })
			}
			sel.Select(ctx)
		}
	})
}

// drainSignals handles the signals already received, before the run
// continues as new; it reports whether there were any.
func (r *run) drainSignals() bool {
	got := false
	for _, ch := range r.signals() {
		for r.signal(ch, true) {
			got = true
		}
	}
	return got
}

// signal receives one signal of c (without blocking when async) and acts
// on it; it reports whether there was one.
func (r *run) signal(c workflow.ReceiveChannel, async bool) bool {
	recv := func(v any) bool {
		if async {
			return c.ReceiveAsync(v)
		}
		c.Receive(r.ctx, v)
		return true
	}
	defer r.bump()
	switch c.Name() {
	case SignalPause:
		if !recv(nil) {
			return false
		}
		if !r.st.Paused && !r.st.Cancelled {
			r.st.Paused = true
			r.recordMigration(MigrationPaused, "")
		}
	case SignalResume:
		if !recv(nil) {
			return false
		}
		if r.st.Cancelled || (!r.st.Paused && !r.st.Stopped) {
			break
		}
		reason := ""
		if r.st.Stopped {
			// The operator accepts the stopped wave as it is.
			reason = "resumed after: " + r.st.Reason
			r.st.Stopped, r.st.Reason = false, ""
			r.st.Passed++
		}
		r.st.Paused = false
		r.recordMigration(MigrationResumed, reason)
	case SignalCancel:
		var reason string
		if !recv(&reason) {
			return false
		}
		r.cancel(reason)
	case SignalRetryFailed:
		if !recv(nil) {
			return false
		}
		r.retryFailed()
	case SignalClosePRs:
		if !recv(nil) {
			return false
		}
		r.closePRs()
	case SignalChangeUpdated:
		var u ChangeUpdate
		if !recv(&u) {
			return false
		}
		r.markOpenDue(func(i int) bool { return r.matches(i, u) })
	}
	return true
}

// matches reports whether target i is the change request u names.
func (r *run) matches(i int, u ChangeUpdate) bool {
	t, row := r.in.Targets[i], r.st.Rows[i]
	switch {
	case u.Ref != "":
		return strings.EqualFold(u.Ref, t.Ref)
	case u.Repo != "":
		repo := strings.TrimSuffix(strings.TrimSuffix(u.Repo, "/"), ".git")
		same := row.Repo != nil && (strings.EqualFold(repo, row.Repo.Owner+"/"+row.Repo.Name) ||
			strings.EqualFold(repo, strings.TrimSuffix(row.Repo.RemoteURL, ".git")) || strings.EqualFold(u.Repo, t.Repo))
		return same && (u.Number == 0 || u.Number == row.Change)
	}
	return true
}

// cancel cancels the running children and every queued target.
func (r *run) cancel(reason string) {
	if r.st.Cancelled {
		return
	}
	if reason == "" {
		reason = "cancelled"
	}
	r.st.Cancelled, r.st.Reason, r.st.Paused = true, reason, false
	for _, c := range r.cancels {
		if c != nil {
			c()
		}
	}
	for _, i := range r.queue {
		r.set(i, StateCancelled)
	}
	r.queue = nil
	r.recordMigration(MigrationCancelled, reason)
}

// retryFailed queues the failed targets again; a stopped rollout checks
// their wave again once they finish.
func (r *run) retryFailed() {
	if r.st.Cancelled {
		return
	}
	n := 0
	for i := range r.st.Rows {
		if r.st.Rows[i].State == StateFailed {
			r.set(i, StatePending)
			r.queue = append(r.queue, i)
			n++
		}
	}
	if n == 0 {
		return
	}
	slices.Sort(r.queue)
	if r.st.Stopped {
		r.st.Stopped = false
		r.recordMigration(MigrationResumed, fmt.Sprintf("retry-failed: %d targets after: %s", n, r.st.Reason))
		r.st.Reason = ""
	}
}

// closePRs closes every open change request, in batches, in a coroutine.
func (r *run) closePRs() {
	var items []TrackItem
	for i, row := range r.st.Rows {
		if row.State.open() && row.Repo != nil {
			items = append(items, TrackItem{Index: i, Repo: *row.Repo, Number: row.Change})
		}
	}
	if len(items) == 0 {
		return
	}
	r.closing++
	workflow.Go(r.ctx, func(ctx workflow.Context) {
		defer r.bump()
		defer func() { r.closing-- }()
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 5 * time.Minute, HeartbeatTimeout: heartbeatTimeout,
			RetryPolicy: &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: 5},
		})
		for len(items) > 0 {
			n := min(len(items), trackBatch)
			var res []TrackResult
			if err := workflow.ExecuteActivity(actx, ActivityCloseChanges, items[:n]).Get(ctx, &res); err == nil {
				r.worked = true
				for _, t := range res {
					if t.Error != "" && !t.Gone {
						r.st.Rows[t.Index].Error = "close: " + t.Error
						continue
					}
					if t.Gone {
						t.Change.State = githost.ChangeClosed
						t.Gone, t.Error = false, ""
					}
					t.Change.Checks = "" // closing says nothing of checks
					r.tracked(t)
				}
			}
			items = items[n:]
			r.bump()
		}
	})
}

// report is the Report of the run's state.
func (r *run) report() Report {
	st := r.st
	rep := Report{ID: r.in.ID, Name: r.in.Spec.Metadata.Name, Paused: st.Paused, Stopped: st.Stopped, Cancelled: st.Cancelled,
		Reason: st.Reason, Waves: r.plan, Wave: min(st.Passed+1, len(r.plan)), Counts: r.countsCopy(),
		Burndown: slices.Clone(st.Burndown), Runs: st.Runs, Targets: make([]TargetRow, len(st.Rows))}
	switch {
	case st.Cancelled:
		rep.State = MigrationCancelled
	case r.finished:
		rep.State = MigrationCompleted
	case st.Stopped:
		rep.State = MigrationStopped
	case st.Paused:
		rep.State = MigrationPaused
	default:
		rep.State = MigrationRunning
	}
	if !st.IdleSince.IsZero() && !st.Stopped && !st.Cancelled && !r.finished && r.counts[StateFailed] > 0 {
		rep.RetryUntil = r.windowEnd()
	}
	for i, row := range st.Rows {
		rep.Targets[i] = TargetRow{Ref: r.in.Targets[i].Ref, Repo: r.in.Targets[i].Repo, State: row.State, Change: row.Change,
			ChangeURL: row.ChangeURL, Error: row.Error, Output: row.Output, Attempts: row.Attempts}
	}
	return rep
}

func (r *run) countsCopy() map[TargetState]int {
	out := map[TargetState]int{}
	for _, s := range TargetStates {
		if n := r.counts[s]; n > 0 {
			out[s] = n
		}
	}
	return out
}

// clip keeps the last n bytes of s.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
