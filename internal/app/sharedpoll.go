package app

import (
	"context"
	"sync"
	"time"

	"backlot.dev/backlot/domain/event"
)

// sharedPollEvery is the pause between two readings of a sharedPoll, as
// between two polls of a fact report's own before.
const sharedPollEvery = 20 * time.Millisecond

// sharedPollTimeout bounds one reading, which no waiter cancels: a
// PostgreSQL query cancelled in flight costs its connection.
const sharedPollTimeout = 30 * time.Second

// sharedPoll waits for positions another process records (the badge
// evaluator's, in the badge read model) with one reader of them per
// process: while anyone waits, one goroutine reads them every
// sharedPollEvery and every waiter looks at that reading. Each fact report
// polling on its own read them every 20 ms for each report in flight: under the soak's 20 writers, hundreds of statements a second on
// the fact reports' 2 connections, which the reports' own reads queued
// behind, and PostgreSQL CPU that the catalog's readers had used before.
// Positions only grow, so a reading that covers a wait answers it whenever
// it was taken, once one was taken at all. It is safe for concurrent use.
type sharedPoll struct {
	read  func(context.Context) (event.Positions, error)
	every time.Duration

	mu      sync.Mutex
	waiters int
	polling bool
	got     event.Positions // the last reading that succeeded
	have    bool            // whether one did
	err     error           // the last reading's error
	next    chan struct{}   // closed when the next reading is in
}

// newSharedPoll reads positions with read, every every (sharedPollEvery
// when zero) while anyone waits.
func newSharedPoll(read func(context.Context) (event.Positions, error), every time.Duration) *sharedPoll {
	if every <= 0 {
		every = sharedPollEvery
	}
	return &sharedPoll{read: read, every: every, next: make(chan struct{})}
}

// WaitFor returns once a reading covers want: at once when the last one
// does, else at the first later one that does. It returns the error of a
// reading taken while it waits, or ctx's when ctx ends first.
func (p *sharedPoll) WaitFor(ctx context.Context, want event.Positions) error {
	p.mu.Lock()
	if p.have && p.got.Covers(want) {
		p.mu.Unlock()
		return nil
	}
	p.waiters++
	if !p.polling {
		p.polling = true
		go p.poll()
	}
	next := p.next
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.waiters--
		p.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-next:
		}
		p.mu.Lock()
		got, err := p.got, p.err
		next = p.next
		p.mu.Unlock()
		if err != nil {
			return err
		}
		if got.Covers(want) {
			return nil
		}
	}
}

// poll reads the positions until no one waits.
func (p *sharedPoll) poll() {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), sharedPollTimeout)
		got, err := p.read(ctx)
		cancel()
		p.mu.Lock()
		if err == nil {
			p.got, p.have = got, true
		}
		p.err = err
		close(p.next)
		p.next = make(chan struct{})
		stop := p.waiters == 0
		if stop {
			p.polling = false
		}
		p.mu.Unlock()
		if stop {
			return
		}
		time.Sleep(p.every)
		p.mu.Lock()
		stop = p.waiters == 0
		if stop {
			p.polling = false
		}
		p.mu.Unlock()
		if stop {
			return
		}
	}
}
