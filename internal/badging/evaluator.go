package badging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/policies"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/projector"
)

// CollectorActor is the actor of the facts the built-in collectors report.
const CollectorActor = "backlot:collector"

// RefreshCollectorActor is the actor of the repository facts a location's
// refresh reports when the files beside an unchanged descriptor changed
// (repocollect.Watcher). Unlike the facts CollectorActor reports, which the
// evaluator writes itself while rating, these make it rate the entity.
const RefreshCollectorActor = "backlot:collector:refresh"

// EvaluatorActor is the actor of badge events.
const EvaluatorActor = "backlot:policies"

// Store is what the evaluator needs of the badge read model: its verdicts and
// facts, and a place to keep the evaluator's own position.
type Store interface {
	badges.Reader
	// EvaluatorPositions returns the last log position the evaluator handled
	// in each partition.
	EvaluatorPositions(ctx context.Context) (event.Positions, error)
	// SetEvaluatorPositions records them.
	SetEvaluatorPositions(ctx context.Context, pos event.Positions) error
}

// RepoCollector reports the facts of an entity's repository (facts.repo), or
// nil when the entity has none it can read. commit is the git commit the
// entity was last read at, "" when unknown, not from git, or when the
// repository changed since (a merged migration): then its head is read.
type RepoCollector func(ctx context.Context, e *catalogstore.EntityView, commit string) (map[string]any, error)

// EvaluatorConfig configures an Evaluator. Log, Catalog, CatalogWaiter, Store
// and StoreWaiter are required.
type EvaluatorConfig struct {
	// Log is the event log to tail and append to.
	Log event.PartitionedLog
	// Catalog is the catalog read model, and CatalogWaiter its projector.
	Catalog       catalogstore.Reader
	CatalogWaiter projector.Waiter
	// Store is the badge read model, and StoreWaiter its projector.
	Store       Store
	StoreWaiter projector.Waiter
	// Repo, when set, collects facts.repo for entities that changed.
	Repo RepoCollector
	// BatchSize is how many events are read at a time; default 5000.
	BatchSize int
	// PageSize is how many entities a full evaluation reads and rates at a
	// time; default 1000. Its events are appended 2,000 at a time.
	PageSize int
	// Logger receives errors; default slog.Default().
	Logger *slog.Logger
}

func (c *EvaluatorConfig) setDefaults() {
	if c.BatchSize <= 0 {
		c.BatchSize = 5000
	}
	if c.PageSize <= 0 {
		c.PageSize = 1000
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports a missing dependency.
func (c *EvaluatorConfig) Validate() error {
	if c.Log == nil || c.Catalog == nil || c.CatalogWaiter == nil || c.Store == nil || c.StoreWaiter == nil {
		return errors.New("badging: EvaluatorConfig needs Log, Catalog, CatalogWaiter, Store and StoreWaiter")
	}
	return nil
}

// Evaluator writes badge events for the changes of the catalog (see the
// package comment). One Evaluator runs per log; Run and Step must not be
// called concurrently.
type Evaluator struct {
	cfg EvaluatorConfig

	policiesLoaded bool
	policies       []*policies.Compiled

	mu      sync.Mutex
	handled event.Positions
	changed chan struct{}
	stats   Stats
	// full is open while a full evaluation runs (from its first page read
	// until the badge read model has folded its last event), closed
	// otherwise.
	full chan struct{}
	// rating is open while a full evaluation rates its pages (rateAll), from
	// its first read until its last page is rated, closed otherwise.
	rating chan struct{}
	// own are runs of log positions, by partition, that hold nothing but
	// events this evaluator appended and would read only to pass over
	// (passedOver): Step moves past them without reading them back
	// (passOwn). A full evaluation of 60,000 components appends 120,000
	// such events, about 1.5 KB each.
	own map[int32][]span
}

// span is a run of log positions, first to last.
type span struct{ first, last int64 }

// maxOwnSpans bounds the runs of own events kept per partition: the oldest
// go first (their events are then read back as any others).
const maxOwnSpans = 256

// Stats counts an evaluator's work since it started.
type Stats struct {
	// Batches is how many batches of the log it handled.
	Batches int64 `json:"batches"`
	// Evaluations is how many (entity, policy) pairs it rated.
	Evaluations int64 `json:"evaluations"`
	// Events is how many badge and facts events it appended.
	Events int64 `json:"events"`
	// Handled is the last log position handled in each partition.
	Handled event.Positions `json:"handled"`
	// LastBatch is how long the last batch with work took, and LastRating how
	// much of it went to rating (reading the entities and their facts and
	// evaluating the policies), the rest to appending the events and waiting
	// for the badge read model to fold them. A full evaluation reads the
	// next page while it rates a page, and makes and appends its events once
	// its last page is rated: its rating is the reading and rating of its
	// pages.
	LastBatch  time.Duration `json:"lastBatchNanos"`
	LastRating time.Duration `json:"lastRatingNanos"`
	// LastEvaluations is how many pairs the last batch with work rated.
	LastEvaluations int64 `json:"lastEvaluations"`
}

// NewEvaluator returns an evaluator; it fails when cfg is incomplete.
func NewEvaluator(cfg EvaluatorConfig) (*Evaluator, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Evaluator{cfg: cfg, changed: make(chan struct{}), handled: event.Positions{}, full: closedChan(), rating: closedChan()}, nil
}

func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

// NoFullEvaluation returns a channel closed once no full evaluation (every
// entity rated, after a policy changed) is running: at once when none runs.
// A full evaluation with no policy to rate by (the first step of an
// evaluator with none) does not count.
// A full evaluation counts until the badge read model has folded its last
// event, that is until its verdicts are readable. Other folds of the same
// process (the history's catch-up) can give way to it on two cores.
func (e *Evaluator) NoFullEvaluation() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.full
}

// NoFullRating returns a channel closed once no full evaluation is rating
// its pages: at once when none is. Unlike NoFullEvaluation it closes when the
// last page is rated, before the last events are appended and folded, so a
// fold that gives way to the rating (the badge read model's own, which the
// evaluation then waits for) catches up while the evaluation waits.
func (e *Evaluator) NoFullRating() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rating
}

// startRating marks a full evaluation's rating as running and returns its end.
func (e *Evaluator) startRating() (end func()) {
	done := make(chan struct{})
	e.mu.Lock()
	e.rating = done
	e.mu.Unlock()
	return func() { close(done) }
}

// startFull marks a full evaluation as running and returns its end.
func (e *Evaluator) startFull() (end func()) {
	done := make(chan struct{})
	e.mu.Lock()
	e.full = done
	e.mu.Unlock()
	return func() { close(done) }
}

// Handled returns the last log position the evaluator has handled in each partition.
func (e *Evaluator) Handled() event.Positions {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.handled.Clone()
}

// Stats returns the work done so far.
func (e *Evaluator) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.stats
	st.Handled = e.handled.Clone()
	return st
}

func (e *Evaluator) advance(pos event.Positions) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.handled.Covers(pos) {
		e.handled.Merge(pos)
		close(e.changed)
		e.changed = make(chan struct{})
	}
}

// WaitHandled blocks until the evaluator has handled the log up to pos (its
// badge events are then readable) or ctx ends.
func (e *Evaluator) WaitHandled(ctx context.Context, pos event.Positions) error {
	for {
		e.mu.Lock()
		done, ch := e.handled.Covers(pos), e.changed
		e.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// Run handles the log until ctx ends, retrying a failed batch after a pause.
func (e *Evaluator) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		n, err := e.Step(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			e.cfg.Logger.Error("badge evaluation failed; retrying", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		if n == 0 {
			e.waitForEvents(ctx)
		}
	}
	return nil
}

// headsPoll is how often an idle evaluator of a log of several partitions
// reads the log's heads for new events. A fact report waits for the
// evaluator to rate its facts: it slept a whole second before it looked
// again, so a report's wait in serve took half a second more on average.
const headsPoll = 50 * time.Millisecond

// waitForEvents sleeps until a partition has events after the evaluator's
// position, or a second has passed. A log of one partition is waited on; a
// log of several is asked for its heads every headsPoll.
func (e *Evaluator) waitForEvents(ctx context.Context) {
	parts, err := e.cfg.Log.Partitions(ctx)
	if err != nil || len(parts) == 0 {
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
		return
	}
	handled := e.Handled()
	wctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if len(parts) == 1 {
		_, _ = e.cfg.Log.WaitPartition(wctx, parts[0], handled[parts[0]])
		return
	}
	for {
		heads, err := e.cfg.Log.Heads(wctx)
		if err == nil && !handled.Covers(heads) {
			return
		}
		select {
		case <-wctx.Done():
			return
		case <-time.After(headsPoll):
		}
	}
}

// read returns up to BatchSize events after from, from every partition.
func (e *Evaluator) read(ctx context.Context, from event.Positions) ([]event.Envelope, error) {
	parts, err := e.cfg.Log.Partitions(ctx)
	if err != nil {
		return nil, err
	}
	// Only the partitions with events after from are read: with many
	// partitions and a few new events (a fact report), reading each in
	// turn took most of a step.
	heads, err := e.cfg.Log.Heads(ctx)
	if err != nil {
		heads = nil
	}
	var batch []event.Envelope
	per := max(e.cfg.BatchSize/len(parts), 100)
	for _, p := range parts {
		if h, ok := heads[p]; ok && h <= from[p] {
			continue
		}
		evs, err := e.cfg.Log.ReadPartition(ctx, p, from[p], per)
		if err != nil {
			return nil, fmt.Errorf("badging: read partition %d after %d: %w", p, from[p], err)
		}
		batch = append(batch, evs...)
	}
	return batch, nil
}

// Step handles one batch of the log after the evaluator's positions and
// returns how many events it read (0 at the head).
func (e *Evaluator) Step(ctx context.Context) (int, error) {
	from, err := e.cfg.Store.EvaluatorPositions(ctx)
	if err != nil {
		return 0, err
	}
	e.advance(from)
	if passed, n := e.passOwn(from); n > 0 {
		// Reading them back would change nothing but the positions: they
		// are handled once the badge read model has folded them.
		if err := e.cfg.StoreWaiter.WaitFor(ctx, passed); err != nil {
			return 0, fmt.Errorf("badging: badge read model: %w", err)
		}
		end := from.Clone()
		end.Merge(passed)
		if err := e.cfg.Store.SetEvaluatorPositions(ctx, end); err != nil {
			return 0, err
		}
		e.advance(end)
		return n, nil
	}
	batch, err := e.read(ctx, from)
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	start := time.Now()
	want := event.PositionsOf(batch)
	end := from.Clone()
	end.Merge(want)
	if err := e.cfg.CatalogWaiter.WaitFor(ctx, want); err != nil {
		return 0, fmt.Errorf("badging: catalog read model: %w", err)
	}
	if err := e.cfg.StoreWaiter.WaitFor(ctx, want); err != nil {
		return 0, fmt.Errorf("badging: badge read model: %w", err)
	}
	work := triggers(batch)
	if work.policies || !e.policiesLoaded {
		if err := e.loadPolicies(ctx); err != nil {
			return 0, err
		}
		if work.policies || allZero(from) {
			work.full = true
		}
	}
	evaluated := 0
	var rating time.Duration
	if work.full || (len(work.keys) > 0 && len(e.policies) > 0) {
		if work.full && len(e.policies) > 0 {
			// Only an evaluation that rates something is marked: a first
			// one without policies (after ingestion, in serve) must not
			// hold the history back.
			defer e.startFull()()
		}
		now := latest(batch)
		r, err := e.evaluate(ctx, work, now)
		if err != nil {
			return 0, err
		}
		if err := e.appendAll(ctx, r); err != nil {
			return 0, err
		}
		evaluated, rating = r.evaluations, r.rating
	}
	if err := e.cfg.Store.SetEvaluatorPositions(ctx, end); err != nil {
		return 0, err
	}
	e.mu.Lock()
	e.stats.Batches++
	e.stats.Evaluations += int64(evaluated)
	if evaluated > 0 {
		e.stats.LastBatch, e.stats.LastRating, e.stats.LastEvaluations = time.Since(start), rating, int64(evaluated)
		e.cfg.Logger.Debug("badges rated", "evaluations", evaluated, "rating", rating, "took", e.stats.LastBatch)
	}
	e.mu.Unlock()
	e.advance(end)
	return len(batch), nil
}

// appendAll appends the events in chunks and waits for the badge read model to
// fold them (and those a full evaluation appended while rating), so the next
// comparison sees them.
func (e *Evaluator) appendAll(ctx context.Context, r *rater) error {
	pos, err := e.appendEvents(ctx, r.events)
	if err != nil {
		return err
	}
	r.events = r.events[:0]
	if r.appended == nil {
		r.appended = event.Positions{}
	}
	r.appended.Merge(pos)
	if len(r.appended) == 0 {
		return nil
	}
	return e.cfg.StoreWaiter.WaitFor(ctx, r.appended)
}

// appendChunk is how many events one append carries.
const appendChunk = 2000

// appendEvents appends the events in chunks, in order, without waiting for
// the fold, and returns their positions.
func (e *Evaluator) appendEvents(ctx context.Context, events []event.Envelope) (event.Positions, error) {
	if len(events) == 0 {
		return nil, nil
	}
	for i := 0; i < len(events); i += appendChunk {
		part := events[i:min(i+appendChunk, len(events))]
		if _, err := e.cfg.Log.Append(ctx, part); err != nil {
			return nil, fmt.Errorf("badging: append %d events: %w", len(part), err)
		}
		e.noteOwn(part)
	}
	e.mu.Lock()
	e.stats.Events += int64(len(events))
	e.mu.Unlock()
	return event.PositionsOf(events), nil
}

// noteOwn records the positions of appended events that the evaluator
// passes over when it reads them back (passedOver), as runs of consecutive
// positions. An event it would act on, or another writer's event between
// two of its own, ends a run.
func (e *Evaluator) noteOwn(evs []event.Envelope) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.own == nil {
		e.own = map[int32][]span{}
	}
	for i := range evs {
		ev := &evs[i]
		if !passedOver(ev) {
			continue
		}
		runs := e.own[ev.Partition]
		if n := len(runs); n > 0 && runs[n-1].last+1 == ev.Position {
			runs[n-1].last = ev.Position
			continue
		}
		if len(runs) == maxOwnSpans {
			runs = runs[1:]
		}
		e.own[ev.Partition] = append(runs, span{ev.Position, ev.Position})
	}
}

// passOwn returns, for each partition whose next position after from starts
// a run of the evaluator's own passed-over events, the run's last position,
// and how many events that passes over. Runs that end at or before from are
// forgotten.
func (e *Evaluator) passOwn(from event.Positions) (event.Positions, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var passed event.Positions
	n := 0
	for p, runs := range e.own {
		at := from[p]
		for len(runs) > 0 && runs[0].last <= at {
			runs = runs[1:]
		}
		if len(runs) > 0 && runs[0].first <= at+1 {
			if passed == nil {
				passed = event.Positions{}
			}
			passed[p] = runs[0].last
			n += int(runs[0].last - at)
			runs = runs[1:]
		}
		if len(runs) == 0 {
			delete(e.own, p)
			continue
		}
		e.own[p] = runs
	}
	return passed, n
}

// passedOver reports whether ev is an event the evaluator appends that
// triggers asks nothing of: a badge event, or facts the built-in collectors
// reported while rating (about an entity other than a policy).
// TestTriggersIgnoreWhatIsPassedOver keeps it within what triggers ignores.
func passedOver(ev *event.Envelope) bool {
	t := event.Type(ev.Type).Latest()
	if t.IsBadge() {
		return true
	}
	return t == event.TypeFactsReported && ev.Actor == CollectorActor && !strings.HasPrefix(strings.ToLower(ev.Subject), "policy:")
}

// work is what a batch asks the evaluator to rate.
type work struct {
	// keys are the entities to rate; upserted those whose body changed.
	keys     map[string]bool
	upserted map[string]bool
	commits  map[string]string
	// recollect are the entities whose repository changed while their
	// descriptor did not (a migration's change request merged): their
	// repository facts are collected again, at the repository's head.
	recollect map[string]bool
	// policies is set when a Policy entity changed; full when every entity
	// must be rated.
	policies bool
	full     bool
}

// triggers reads a batch for the entities it may change the verdicts of. It
// dispatches on the newest version of each event's type, and decodes through
// the upcasters, so an old version triggers as the new one.
func triggers(batch []event.Envelope) work {
	w := work{keys: map[string]bool{}, upserted: map[string]bool{}, commits: map[string]string{}, recollect: map[string]bool{}}
	for i := range batch {
		ev := &batch[i]
		key := strings.ToLower(ev.Subject)
		switch event.Type(ev.Type).Latest() {
		case event.TypeEntityUpserted:
			w.keys[key], w.upserted[key] = true, true
			w.commits[key] = ev.Commit
		case event.TypeEntityRemoved:
			w.keys[key] = true
		case event.TypeFactsReported:
			if ev.Actor != CollectorActor {
				w.keys[key] = true
			}
		case event.TypeMigrationTargetChanged:
			var d event.MigrationTargetChanged
			if ev.Decode(&d) != nil || d.State != "merged" {
				continue
			}
			w.keys[key], w.recollect[key] = true, true
			if !w.upserted[key] {
				w.commits[key] = "" // the repository's head, past the merge
			}
		default:
			continue
		}
		if strings.HasPrefix(key, "policy:") {
			w.policies = true
		}
	}
	return w
}

// loadPolicies compiles the catalog's Policy entities. A policy that does not
// validate is left out (GET /api/policies shows why); one with broken checks is
// kept, and those checks fail with their error. Two policies of one name: the
// first by ref wins.
func (e *Evaluator) loadPolicies(ctx context.Context) error {
	page, err := e.cfg.Catalog.Query(ctx, catalogstore.PageQuery{Filter: catalogstore.Filter{{{Key: "kind", Values: []string{"policy"}}}}})
	if err != nil {
		return fmt.Errorf("badging: load policies: %w", err)
	}
	slices.SortFunc(page.Items, func(a, b catalogstore.EntityView) int { return strings.Compare(a.Key, b.Key) })
	seen := map[string]bool{}
	e.policies = e.policies[:0]
	for _, v := range page.Items {
		p, err := policies.FromEntity(v.Ref, v.Body)
		if err != nil {
			e.cfg.Logger.Warn("policy left out", "policy", v.Ref, "err", err)
			continue
		}
		if seen[p.Metadata.Name] {
			e.cfg.Logger.Warn("policy left out: another policy has its name", "policy", v.Ref)
			continue
		}
		seen[p.Metadata.Name] = true
		c, err := policies.Compile(p)
		if c == nil {
			continue
		}
		if err != nil {
			e.cfg.Logger.Warn("policy has checks that do not compile; they fail", "policy", v.Ref, "err", err)
		}
		e.policies = append(e.policies, c)
	}
	e.policiesLoaded = true
	return nil
}

// evaluate rates the entities of w and returns the rater, with the events
// still to append. A full evaluation holds its drafts compact while it
// rates, and appends its events after (rateAll).
func (e *Evaluator) evaluate(ctx context.Context, w work, now time.Time) (*rater, error) {
	r := &rater{e: e, ctx: ctx, now: now, upserted: w.upserted, recollect: w.recollect, commits: w.commits, full: w.full}
	if w.full {
		return r, r.rateAll()
	}
	keys := make([]string, 0, len(w.keys))
	for k := range w.keys {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	// Relations carry verdicts too (a dependency deprecated, an owner gone):
	// rate the related entities of every changed one.
	related, err := r.related(keys)
	if err != nil {
		return nil, err
	}
	keys = append(keys, related...)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	const chunk = 1000
	for i := 0; i < len(keys); i += chunk {
		part := keys[i:min(i+chunk, len(keys))]
		views, err := e.cfg.Catalog.ByKeys(ctx, part)
		if err != nil {
			return nil, err
		}
		if err := r.rate(part, views); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// allZero reports positions at the start of the log.
func allZero(p event.Positions) bool {
	for _, v := range p {
		if v != 0 {
			return false
		}
	}
	return true
}

// latest returns the latest event time of the batch: the instant the
// batch is rated at.
func latest(batch []event.Envelope) time.Time {
	var t time.Time
	for i := range batch {
		if batch[i].Time.After(t) {
			t = batch[i].Time
		}
	}
	return t
}
