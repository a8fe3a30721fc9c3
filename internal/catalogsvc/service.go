package catalogsvc

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/refresh"
	"backlot.dev/backlot/internal/ingest"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/projector"
)

// Config configures a Service.
type Config struct {
	// Log is the event log writes go to.
	Log event.PartitionedLog
	// Store is the catalog read model.
	Store catalogstore.Store
	// Waiter tells when Store has applied a write; writes wait for it. In one
	// process it is the Projector; elsewhere a PollWaiter over Store.
	Waiter projector.Waiter
	// Lock, when set, makes refreshes of one location exclusive across processes
	// (several ingesters on one store); within a process they are always serialised.
	Lock LocationLock
	// Reader reads locations.
	Reader *ingest.Reader
	// WriteTimeout bounds how long a write waits for the read model; default 30s.
	WriteTimeout time.Duration
	// BatchSize is how many events go into one append; default 500.
	BatchSize int
	// RefreshInterval is how often the refresh loop re-reads each location; with a
	// Lock, a location refreshed within it by any process is skipped. Default 30s.
	RefreshInterval time.Duration
	// Repos, when set, is told after each refresh of the entities whose
	// descriptor did not change, so a repository whose other files changed
	// (a push, a CODEOWNERS added beside a catalog-info.yaml) has its facts
	// collected again.
	Repos RepoWatcher
	// Logger receives refresh failures; default slog.Default().
	Logger *slog.Logger
}

// RepoWatcher watches the repositories of the entities a refresh kept as
// they were: their descriptor did not change, but the files beside it may
// have.
type RepoWatcher interface {
	// Refreshed returns the events that record what changed in the
	// repositories of ents since they were last looked at (facts.repo), none
	// when nothing did. commit is called once those events are written, so
	// a failed append is looked at again at the next refresh. A repository
	// that cannot be read is the watcher's to report; err is a store that
	// did not answer.
	Refreshed(ctx context.Context, ents []RepoEntity) (evs []event.Envelope, commit func(), err error)
}

// RepoFilter is what a RepoWatcher may also be: Watches reports whether the
// watcher looks at the repository of entities read from the file managedBy
// (type:target) at all. A refresh then does not list the entities of the
// files it does not watch, so a refresh of a large location that is no
// repository reads none of its entities back from the store.
type RepoFilter interface {
	Watches(managedBy string) bool
}

// RepoEntity is an entity a refresh kept as it was, with where it was read.
type RepoEntity struct {
	// Key is the entity's lower-case ref.
	Key string
	// ManagedBy is type:target of the file the entity was read from.
	ManagedBy string
	// Commit is the git commit the refresh read the file at, its branch's
	// tip (not the last commit that changed the file); "" for a file on disk.
	Commit string
}

// LocationLock makes the refresh of a location exclusive across the processes
// that share a store, so two ingesters never refresh the same location at once.
type LocationLock interface {
	// Acquire blocks until this process holds the location's lock, or ctx ends.
	Acquire(ctx context.Context, locationID string) (Lease, error)
	// Claim takes the lock only when it is free and nobody refreshed the location
	// within fresh; ok is false otherwise.
	Claim(ctx context.Context, locationID string, fresh time.Duration) (l Lease, ok bool, err error)
}

// Lease is a held location lock.
type Lease struct {
	// Release gives the lock up and records the refresh as done now.
	Release func()
	// Continuous says this process also made the location's previous refresh.
	Continuous bool
}

// Service carries out catalog writes. Refreshes run one at a time.
type Service struct {
	cfg Config
	mu  sync.Mutex
	// releasing holds, by location id, the lease releases still under way
	// (releaseLater), each closed once done; guarded by mu.
	releasing map[string]chan struct{}
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 500
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{cfg: cfg}
}

// append writes events and returns their positions; a failing log is a 503.
func (s *Service) append(ctx context.Context, evs []event.Envelope) (event.Positions, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	if _, err := s.cfg.Log.Append(ctx, evs); err != nil {
		return nil, &UnavailableError{Err: fmt.Errorf("event log: %w", err)}
	}
	pos := event.PositionsOf(evs)
	event.RecordToken(ctx, pos)
	return pos, nil
}

// waitFor blocks until the read model has applied pos, for at most WriteTimeout
// plus a millisecond for each event the read model is behind: a write of a large
// location is durable in the log at once and needs the time to be folded.
func (s *Service) waitFor(ctx context.Context, pos event.Positions) error {
	if len(pos) == 0 {
		return nil
	}
	behind := s.cfg.Waiter.Applied().Behind(pos)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout+time.Duration(behind)*time.Millisecond)
	defer cancel()
	if err := s.cfg.Waiter.WaitFor(ctx, pos); err != nil {
		return &UnavailableError{Err: err}
	}
	return nil
}

// catchUp waits until the read model has applied everything in the log.
func (s *Service) catchUp(ctx context.Context) error {
	head, err := s.cfg.Log.Heads(ctx)
	if err != nil {
		return &UnavailableError{Err: fmt.Errorf("event log: %w", err)}
	}
	return s.waitFor(ctx, head)
}

// correlationKey carries a caller's correlation id (WithCorrelation).
type correlationKey struct{}

// WithCorrelation makes the events a registration writes carry id as their
// correlation id: the scaffolder passes its task's id, so the registered
// entities' history leads to the task that made them.
func WithCorrelation(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey{}, id)
}

// correlationOf returns the context's correlation id, or a new one.
func correlationOf(ctx context.Context) string {
	if id, ok := ctx.Value(correlationKey{}).(string); ok && id != "" {
		return id
	}
	return event.NewID()
}

// stateErr returns the first failed read of a refresh state that reports one.
func stateErr(st refresh.State) error {
	if e, ok := st.(interface{ Err() error }); ok {
		return e.Err()
	}
	return nil
}
