package projector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"backlot.dev/backlot/domain/event"
)

// Options configures a Projector.
type Options struct {
	// BatchSize is how many events are read and applied per transaction; default 2000.
	BatchSize int
	// RetryDelay is the pause after a failed batch; default 500ms.
	RetryDelay time.Duration
	// Logger receives errors; default slog.Default().
	Logger *slog.Logger
	// BulkThreshold is how far behind the log the projector must be to fold in
	// bulk mode (see BulkLoader); default 20000 events, negative disables it.
	// Bulk mode is used only on a log with one partition.
	BulkThreshold int64
	// Loading, when set, is open while a first load fills an empty store
	// (dev's configured catalogs at the first start): until it is closed, a
	// projector that is more than one batch behind the log folds in bulk
	// mode (BulkLoader) instead of waiting to be BulkThreshold behind, so the
	// whole load goes in without the indexes its rows would update at random
	// places. It leaves bulk mode as always, once it reaches the head.
	Loading <-chan struct{}
	// Gate, when set, admits each batch: the projector enters it before it
	// reads a batch of a partition and leaves it once the batch is applied
	// (or the read found nothing), so projectors that share a Gate read and
	// apply at most as many batches at once as it lets in. Waiting for new
	// events at a partition's head is not gated.
	Gate Gate
	// ReadAhead, when set and there is no Gate, reads the next batch of a
	// partition while the current one, a whole batch, is applied, and hands it to a
	// Preparer store's Prepare on that reading goroutine: the log's reads
	// (and the store's preparation) overlap the store's writes instead of
	// waiting for them. Only a whole batch read ahead is applied; a short one
	// is read again when its turn comes, so a projector that catches up
	// sees the log's head as late as without it.
	ReadAhead bool
}

// Preparer is implemented by targets that do part of a batch's work before
// Apply (decoding, say) on another goroutine: a projector with
// Options.ReadAhead calls Prepare with each batch it reads ahead, and later
// calls Apply with the same slice, unless it reads the batch again; Prepare
// must be safe to call while Apply runs, and Apply must give the same result
// whether or not Prepare saw its events first.
type Preparer interface {
	Prepare(events []event.Envelope)
}

// Gate admits the batches of projectors (Options.Gate).
type Gate interface {
	// Enter blocks until a batch of partition may be read and applied, and
	// returns the leave that ends it (called once), or an error when ctx
	// ends first.
	Enter(ctx context.Context, partition int32) (leave func(), err error)
}

// SizingGate is a Gate that also bounds each batch it admits: a projector
// whose Gate is a SizingGate enters it with EnterSized instead of Enter, and
// reads at most the limit it answers (between 1 and max) for that batch. A
// gate that lets a background fold share the cores with requests can so
// admit smaller batches while requests are in flight, and whole ones when
// none is.
type SizingGate interface {
	Gate
	// EnterSized is Enter that also answers how many events the admitted
	// batch of partition may read: max, the projector's BatchSize, or fewer.
	EnterSized(ctx context.Context, partition int32, max int) (limit int, leave func(), err error)
}

func (o *Options) setDefaults() {
	if o.BatchSize <= 0 {
		o.BatchSize = 2000
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = 500 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.BulkThreshold == 0 {
		o.BulkThreshold = 20000
	}
}

// BulkLoader is implemented by stores that fold a long backlog faster without
// some of their indexes: the projector calls BeginBulk when it is far behind the
// log and EndBulk before it reports the position that catches it up. Queries stay
// correct in between, only slower.
type BulkLoader interface {
	BeginBulk(ctx context.Context) error
	EndBulk(ctx context.Context) error
}

// Waiter waits until a read model has applied given positions: the read half of
// read-your-writes.
type Waiter interface {
	// WaitFor blocks until the read model covers want or ctx ends.
	WaitFor(ctx context.Context, want event.Positions) error
	// Applied returns the positions known to be applied.
	Applied() event.Positions
}

// Projector tails an event log into a Store: for each partition it reads batches
// after the store's position and applies each in one transaction. It resumes from
// the store's recorded positions after a restart, so nothing is lost or applied
// twice. Several projectors in several processes may share one store when each
// runs its own partitions (RunPartitions).
type Projector struct {
	log   event.PartitionedLog
	store Target
	opts  Options

	mu      sync.Mutex
	applied event.Positions
	changed chan struct{}
	bulk    bool // only used on a single-partition log, by its one stepping goroutine
	// ahead holds each partition's batch being read ahead (Options.ReadAhead),
	// touched only by the partition's one stepping goroutine.
	ahead sync.Map // int32 -> *aheadRead
}

// aheadRead is a batch read ahead: limit events after from, ready once done
// is closed.
type aheadRead struct {
	from  int64
	limit int
	done  chan struct{}
	batch []event.Envelope
	err   error
}

var _ Waiter = (*Projector)(nil)

// Target is what a Projector folds into: any read model that applies batches
// of events and records its positions (the catalog Store, the history store).
type Target interface {
	// Apply folds the events in one transaction with their positions.
	Apply(ctx context.Context, events []event.Envelope) error
	// Positions returns the last position applied in each partition.
	Positions(ctx context.Context) (event.Positions, error)
}

// New returns a projector of log into store.
func New(log event.PartitionedLog, store Target, opts Options) *Projector {
	opts.setDefaults()
	return &Projector{log: log, store: store, opts: opts, applied: event.Positions{}, changed: make(chan struct{})}
}

// load takes the store's recorded positions as the starting point.
func (p *Projector) load(ctx context.Context) error {
	pos, err := p.store.Positions(ctx)
	if err != nil {
		return err
	}
	for part, at := range pos {
		p.advance(part, at)
	}
	return nil
}

// CatchUp applies every event in every partition of the log now, then returns
// the positions reached.
func (p *Projector) CatchUp(ctx context.Context) (event.Positions, error) {
	if err := p.load(ctx); err != nil {
		return p.Applied(), err
	}
	parts, err := p.log.Partitions(ctx)
	if err != nil {
		return p.Applied(), fmt.Errorf("projector: %w", err)
	}
	single := len(parts) == 1
	// The partitions are independent folds: catch them up side by side, so a
	// store that takes concurrent transactions (PostgreSQL) works on several.
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, part := range parts {
		wg.Go(func() {
			for {
				n, err := p.step(ctx, part, single)
				if err != nil {
					errs[i] = err
					return
				}
				if n == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	return p.Applied(), errors.Join(errs...)
}

// step applies one batch of a partition and returns how many events it read.
func (p *Projector) step(ctx context.Context, part int32, single bool) (int, error) {
	limit := p.opts.BatchSize
	if p.opts.Gate != nil {
		var leave func()
		var err error
		if sg, ok := p.opts.Gate.(SizingGate); ok {
			var n int
			n, leave, err = sg.EnterSized(ctx, part, limit)
			if err == nil && n > 0 && n < limit {
				limit = n
			}
		} else {
			leave, err = p.opts.Gate.Enter(ctx, part)
		}
		if err != nil {
			return 0, fmt.Errorf("projector: partition %d: %w", part, err)
		}
		defer leave()
	}
	from := p.Applied()[part]
	batch, err := p.read(ctx, part, from, limit)
	if err != nil {
		return 0, fmt.Errorf("projector: read partition %d after %d: %w", part, from, err)
	}
	bl, canBulk := p.store.(BulkLoader)
	if len(batch) == 0 {
		// Nothing more to read: a bulk load that ended on a full batch
		// ends here.
		if p.bulk {
			if err := p.leaveBulk(ctx, bl); err != nil {
				return 0, err
			}
		}
		return 0, nil
	}
	canBulk = canBulk && single
	if threshold := p.bulkThreshold(); canBulk && !p.bulk && threshold > 0 {
		if heads, err := p.log.Heads(ctx); err == nil && heads[part]-from > threshold {
			if err := bl.BeginBulk(ctx); err != nil {
				return 0, fmt.Errorf("projector: %w", err)
			}
			p.bulk = true
			p.opts.Logger.Info("projector folding a backlog in bulk mode", "behind", heads[part]-from)
		}
	}
	// A short batch was read at the head: there is nothing to read ahead,
	// and an edit's fold then reads the log once, as without ReadAhead.
	if p.opts.ReadAhead && p.opts.Gate == nil && len(batch) == limit {
		p.readAhead(ctx, part, batch[len(batch)-1].Position, limit)
	}
	if err := p.store.Apply(ctx, batch); err != nil {
		return 0, fmt.Errorf("projector: %w", err)
	}
	if p.bulk && p.caughtUp(ctx, part, batch, limit) {
		// Caught up: rebuild the indexes before anyone is told the position.
		if err := p.leaveBulk(ctx, bl); err != nil {
			return 0, err
		}
	}
	p.advance(part, batch[len(batch)-1].Position)
	return len(batch), nil
}

// read returns the limit events of part after from: the batch read ahead
// for them when it is whole (Options.ReadAhead), else a read of the log.
func (p *Projector) read(ctx context.Context, part int32, from int64, limit int) ([]event.Envelope, error) {
	if v, ok := p.ahead.LoadAndDelete(part); ok {
		a := v.(*aheadRead)
		select {
		case <-a.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if a.err == nil && a.from == from && a.limit == limit && len(a.batch) == limit {
			return a.batch, nil
		}
	}
	return p.log.ReadPartition(ctx, part, from, limit)
}

// readAhead starts reading the limit events of part after from, and
// preparing them when the store is a Preparer, on a goroutine of its own.
func (p *Projector) readAhead(ctx context.Context, part int32, from int64, limit int) {
	a := &aheadRead{from: from, limit: limit, done: make(chan struct{})}
	p.ahead.Store(part, a)
	go func() {
		defer close(a.done)
		a.batch, a.err = p.log.ReadPartition(ctx, part, from, limit)
		if pr, ok := p.store.(Preparer); ok && a.err == nil && len(a.batch) == limit {
			pr.Prepare(a.batch)
		}
	}()
}

// bulkThreshold is how far behind the log the projector must be to enter
// bulk mode now: one batch while Options.Loading is open, else
// Options.BulkThreshold.
func (p *Projector) bulkThreshold() int64 {
	if p.opts.Loading != nil && p.opts.BulkThreshold > 0 {
		select {
		case <-p.opts.Loading:
		default:
			return int64(p.opts.BatchSize)
		}
	}
	return p.opts.BulkThreshold
}

// caughtUp reports whether batch, just applied, reaches the partition's head:
// it is short of a full batch (of limit events), or its last position is the
// head (a backlog whose events arrived in whole batches ends on a full one).
func (p *Projector) caughtUp(ctx context.Context, part int32, batch []event.Envelope, limit int) bool {
	if len(batch) < limit {
		return true
	}
	heads, err := p.log.Heads(ctx)
	return err == nil && batch[len(batch)-1].Position >= heads[part]
}

// leaveBulk rebuilds the indexes bl dropped for a bulk load.
func (p *Projector) leaveBulk(ctx context.Context, bl BulkLoader) error {
	start := time.Now()
	if err := bl.EndBulk(ctx); err != nil {
		return fmt.Errorf("projector: %w", err)
	}
	p.bulk = false
	p.opts.Logger.Info("projector left bulk mode", "indexes rebuilt in", time.Since(start).Round(time.Millisecond))
	return nil
}

// Run tails every partition of the log until ctx ends. Failed batches are retried
// after RetryDelay.
func (p *Projector) Run(ctx context.Context) error {
	var parts []int32
	for {
		var err error
		if parts, err = p.log.Partitions(ctx); err == nil {
			break
		}
		p.opts.Logger.Error("projector cannot list the log's partitions; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(p.opts.RetryDelay):
		}
	}
	return p.RunPartitions(ctx, parts)
}

// RunPartitions tails the given partitions until ctx ends: the work of one member
// of a consumer group, which owns some partitions of the log.
func (p *Projector) RunPartitions(ctx context.Context, parts []int32) error {
	for {
		err := p.load(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		p.opts.Logger.Error("projector cannot read the store's positions; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(p.opts.RetryDelay):
		}
	}
	single := len(parts) == 1
	var wg sync.WaitGroup
	for _, part := range parts {
		wg.Go(func() { p.tail(ctx, part, single) })
	}
	wg.Wait()
	return nil
}

// tail applies one partition until ctx ends.
func (p *Projector) tail(ctx context.Context, part int32, single bool) {
	for {
		if ctx.Err() != nil {
			return
		}
		n, err := p.step(ctx, part, single)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			p.opts.Logger.Error("projector batch failed; retrying", "partition", part, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(p.opts.RetryDelay):
			}
			continue
		}
		if n > 0 {
			continue
		}
		if _, err := p.log.WaitPartition(ctx, part, p.Applied()[part]); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			p.opts.Logger.Error("projector wait failed", "partition", part, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(p.opts.RetryDelay):
			}
		}
	}
}

func (p *Projector) advance(part int32, pos int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pos > p.applied[part] {
		p.applied = p.applied.Clone()
		p.applied[part] = pos
		close(p.changed)
		p.changed = make(chan struct{})
	}
}

// Applied returns the positions applied so far. The map is not changed afterwards.
func (p *Projector) Applied() event.Positions {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.applied
}

// WaitFor blocks until the projector has applied want or ctx ends.
func (p *Projector) WaitFor(ctx context.Context, want event.Positions) error {
	for {
		p.mu.Lock()
		applied, ch := p.applied, p.changed
		p.mu.Unlock()
		if applied.Covers(want) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("read model at %s has not reached %s: %w", applied, want, ctx.Err())
		case <-ch:
		}
	}
}

// PositionReader tells how far a read model has applied the log.
type PositionReader interface {
	// Positions returns the last position applied in each partition.
	Positions(ctx context.Context) (event.Positions, error)
}

// PollWaiter is a Waiter for a process that reads a store another process
// projects into: it polls the store's positions.
type PollWaiter struct {
	// Reader is the read model.
	Reader PositionReader
	// Interval is the pause between polls; default 20ms.
	Interval time.Duration

	mu   sync.Mutex
	last event.Positions
}

var _ Waiter = (*PollWaiter)(nil)

// WaitFor polls until the store covers want or ctx ends.
func (w *PollWaiter) WaitFor(ctx context.Context, want event.Positions) error {
	interval := w.Interval
	if interval <= 0 {
		interval = 20 * time.Millisecond
	}
	for {
		got, err := w.positions(ctx)
		if err == nil {
			w.mu.Lock()
			w.last = got
			w.mu.Unlock()
			if got.Covers(want) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("read model positions: %w (%w)", err, ctx.Err())
			}
			return fmt.Errorf("read model at %s has not reached %s: %w", got, want, ctx.Err())
		case <-time.After(interval):
		}
	}
}

// pollTimeout bounds a poll's read of the positions once the wait that
// sent it ended.
const pollTimeout = 30 * time.Second

// positions reads the store's positions, or answers ctx's error when ctx
// ends first. The read itself runs on, under a context ctx's end does not
// cancel: a PostgreSQL query cancelled in flight costs its connection (pgx
// closes it), and the pool's next statement, a write's next step, would
// wait for a new one (100-350 ms at load 20, where a write's wait for its
// fold ended a poll in flight as the local projector folded).
func (w *PollWaiter) positions(ctx context.Context) (event.Positions, error) {
	type answer struct {
		pos event.Positions
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pollTimeout)
		defer cancel()
		pos, err := w.Reader.Positions(qctx)
		ch <- answer{pos, err}
	}()
	select {
	case a := <-ch:
		return a.pos, a.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Applied returns the positions the last poll saw.
func (w *PollWaiter) Applied() event.Positions {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last == nil {
		return event.Positions{}
	}
	return w.last
}
