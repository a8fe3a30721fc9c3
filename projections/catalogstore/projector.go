package catalogstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"backlot.dev/backlot/domain/event"
)

// ProjectorOptions configures a Projector.
type ProjectorOptions struct {
	// BatchSize is how many events are read and applied per transaction; default 2000.
	BatchSize int
	// RetryDelay is the pause after a failed batch; default 500ms.
	RetryDelay time.Duration
	// Logger receives errors; default slog.Default().
	Logger *slog.Logger
	// BulkThreshold is how far behind the log the projector must be to fold in
	// bulk mode (see BulkLoader); default 20000 events, negative disables it.
	BulkThreshold int64
}

func (o *ProjectorOptions) setDefaults() {
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

// Projector tails an event log into a Store: it reads batches after the store's
// position and applies each in one transaction. It resumes from the store's
// recorded position after a restart, so nothing is lost or applied twice.
type Projector struct {
	log   event.Log
	store Store
	opts  ProjectorOptions

	mu      sync.Mutex
	applied int64
	changed chan struct{}
	bulk    bool // only touched by the goroutine that steps
}

// NewProjector returns a projector of log into store.
func NewProjector(log event.Log, store Store, opts ProjectorOptions) *Projector {
	opts.setDefaults()
	return &Projector{log: log, store: store, opts: opts, changed: make(chan struct{})}
}

// CatchUp applies every event in the log now, then returns the position reached.
func (p *Projector) CatchUp(ctx context.Context) (int64, error) {
	pos, err := p.store.Position(ctx)
	if err != nil {
		return 0, err
	}
	p.advance(pos)
	for {
		n, err := p.step(ctx)
		if err != nil {
			return p.Applied(), err
		}
		if n == 0 {
			return p.Applied(), nil
		}
	}
}

// step applies one batch and returns how many events it read.
func (p *Projector) step(ctx context.Context) (int, error) {
	from := p.Applied()
	batch, err := p.log.Read(ctx, from, p.opts.BatchSize)
	if err != nil {
		return 0, fmt.Errorf("projector: read after %d: %w", from, err)
	}
	if len(batch) == 0 {
		return 0, nil
	}
	bl, canBulk := p.store.(BulkLoader)
	if canBulk && !p.bulk && p.opts.BulkThreshold > 0 {
		if head, err := p.log.Head(ctx); err == nil && head-from > p.opts.BulkThreshold {
			if err := bl.BeginBulk(ctx); err != nil {
				return 0, fmt.Errorf("projector: %w", err)
			}
			p.bulk = true
			p.opts.Logger.Info("projector folding a backlog in bulk mode", "behind", head-from)
		}
	}
	if err := p.store.Apply(ctx, batch); err != nil {
		return 0, fmt.Errorf("projector: %w", err)
	}
	if p.bulk && len(batch) < p.opts.BatchSize {
		// Caught up: rebuild the indexes before anyone is told the position.
		start := time.Now()
		if err := bl.EndBulk(ctx); err != nil {
			return 0, fmt.Errorf("projector: %w", err)
		}
		p.bulk = false
		p.opts.Logger.Info("projector left bulk mode", "indexes rebuilt in", time.Since(start).Round(time.Millisecond))
	}
	p.advance(batch[len(batch)-1].Position)
	return len(batch), nil
}

// Run tails the log until ctx ends. Failed batches are retried after RetryDelay.
func (p *Projector) Run(ctx context.Context) error {
	if _, err := p.CatchUp(ctx); err != nil && ctx.Err() == nil {
		p.opts.Logger.Error("projector catch-up failed; retrying", "err", err)
	}
	for {
		if ctx.Err() != nil {
			return nil
		}
		n, err := p.step(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			p.opts.Logger.Error("projector batch failed; retrying", "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(p.opts.RetryDelay):
			}
			continue
		}
		if n > 0 {
			continue
		}
		if _, err := p.log.Wait(ctx, p.Applied()); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			p.opts.Logger.Error("projector wait failed", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(p.opts.RetryDelay):
			}
		}
	}
}

func (p *Projector) advance(pos int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pos > p.applied {
		p.applied = pos
		close(p.changed)
		p.changed = make(chan struct{})
	}
}

// Applied returns the last position applied.
func (p *Projector) Applied() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.applied
}

// WaitFor blocks until the read model has applied pos or ctx ends.
func (p *Projector) WaitFor(ctx context.Context, pos int64) error {
	for {
		p.mu.Lock()
		applied, ch := p.applied, p.changed
		p.mu.Unlock()
		if applied >= pos {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("read model at position %d has not reached %d: %w", applied, pos, ctx.Err())
		case <-ch:
		}
	}
}
