package repocollect

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/internal/catalogsvc"
	"backlot.dev/backlot/internal/collect"
	"backlot.dev/backlot/internal/ingest"
	"backlot.dev/backlot/internal/ingest/gitsource"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/catalogstore"
)

// Watcher is the catalog service's RepoWatcher: after each refresh it looks at
// the repositories of the entities whose descriptor did not change, and
// reports their facts.repo again when the repository's files changed (a push
// to a url location's repository, a CODEOWNERS added beside a file location's
// catalog-info.yaml).
//
// What it looks at is a digest of the repository: the git commit the refresh
// read the descriptor at, or the listing of the descriptor's folder on disk.
// When the digest differs from the one it last looked at (or it never looked,
// as after a restart) it collects the facts and compares them with those the
// badge read model holds; only facts that differ become a facts.reported event,
// by badging.RefreshCollectorActor, which the badge evaluator rates. A refresh
// of unchanged repositories writes nothing. Safe for concurrent use.
type Watcher struct {
	reader  *ingest.Reader
	catalog catalogstore.Reader
	facts   badges.Reader
	logger  *slog.Logger

	mu   sync.Mutex
	seen map[string]string
}

var (
	_ catalogsvc.RepoWatcher = (*Watcher)(nil)
	_ catalogsvc.RepoFilter  = (*Watcher)(nil)
)

// NewWatcher returns a Watcher that reads repositories through reader, the
// entities' refs from catalog and their stored facts from facts. A repository
// that cannot be read is logged to logger (slog.Default() when nil) and looked
// at again at the next refresh.
func NewWatcher(reader *ingest.Reader, catalog catalogstore.Reader, facts badges.Reader, logger *slog.Logger) *Watcher {
	if logger == nil {
		logger = slog.Default()
	}
	return &Watcher{reader: reader, catalog: catalog, facts: facts, logger: logger, seen: map[string]string{}}
}

// looked is a repository whose digest changed, with its listing when known.
type looked struct {
	ent    catalogsvc.RepoEntity
	digest string
	files  []string
}

// Refreshed returns the facts.reported events of the entities whose
// repository changed since it was last looked at and whose facts.repo differ
// from the stored ones. commit records the digests looked at; call it once the
// events are written.
func (w *Watcher) Refreshed(ctx context.Context, ents []catalogsvc.RepoEntity) ([]event.Envelope, func(), error) {
	var todo []looked
	for _, e := range ents {
		l, ok := w.digest(ctx, e)
		if !ok {
			continue
		}
		w.mu.Lock()
		same := w.seen[e.Key] == l.digest
		w.mu.Unlock()
		if !same {
			todo = append(todo, l)
		}
	}
	if len(todo) == 0 {
		return nil, func() {}, nil
	}
	keys := make([]string, len(todo))
	for i, l := range todo {
		keys[i] = l.ent.Key
	}
	stored, err := w.facts.FactsOf(ctx, keys)
	if err != nil {
		return nil, nil, fmt.Errorf("repocollect: facts of %d entities: %w", len(keys), err)
	}
	views, err := w.catalog.ByKeys(ctx, keys)
	if err != nil {
		return nil, nil, fmt.Errorf("repocollect: %d entities: %w", len(keys), err)
	}
	now := time.Now().UTC()
	var evs []event.Envelope
	for i, l := range todo {
		v := views[i]
		if v == nil {
			continue
		}
		if l.files == nil {
			files, ok, err := repoFiles(ctx, w.reader, l.ent.ManagedBy, l.ent.Commit)
			if err != nil || !ok {
				w.logger.Warn("repository facts not collected", "entity", v.Ref, "file", l.ent.ManagedBy, "err", err)
				todo[i].digest = "" // look again at the next refresh
				continue
			}
			l.files = files
		}
		enc, err := json.Marshal(collect.RepoFacts(l.files))
		if err != nil {
			return nil, nil, err
		}
		if bytes.Equal(enc, storedRepo(stored[l.ent.Key])) {
			continue
		}
		ev, err := event.New(event.TypeFactsReported, l.ent.Key,
			event.FactsReported{Entity: v.Ref, Source: badging.SourceRepo, Facts: enc, ObservedAt: now},
			event.Meta{Actor: badging.RefreshCollectorActor, Time: now})
		if err != nil {
			return nil, nil, err
		}
		evs = append(evs, ev)
	}
	return evs, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, l := range todo {
			if l.digest == "" {
				delete(w.seen, l.ent.Key)
			} else {
				w.seen[l.ent.Key] = l.digest
			}
		}
	}, nil
}

// Watches reports whether the Watcher looks at the repository of entities
// read from managedBy (type:target): only a repository's own descriptor
// (catalog-info…) speaks for a repository. It is catalogsvc.RepoFilter.
func (w *Watcher) Watches(managedBy string) bool {
	switch {
	case strings.HasPrefix(managedBy, "file:"):
		return isRepoDescriptor(filepath.Base(strings.TrimPrefix(strings.TrimPrefix(managedBy, "file:"), "//")))
	case strings.HasPrefix(managedBy, "url:"):
		t, err := gitsource.ParseTarget(strings.TrimPrefix(managedBy, "url:"))
		return err == nil && isRepoDescriptor(path.Base(t.Path))
	}
	return false
}

// digest returns what stands for the entity's repository: its commit for git,
// the hash of its folder's listing on disk (with the listing). ok is false for
// an entity whose descriptor is not a repository's, or whose folder cannot be
// read (logged).
func (w *Watcher) digest(ctx context.Context, e catalogsvc.RepoEntity) (looked, bool) {
	switch {
	case strings.HasPrefix(e.ManagedBy, "url:"):
		if e.Commit == "" {
			return looked{}, false
		}
		return looked{ent: e, digest: "git:" + e.Commit}, true
	case strings.HasPrefix(e.ManagedBy, "file:"):
		files, ok, err := repoFiles(ctx, w.reader, e.ManagedBy, "")
		if err != nil {
			w.logger.Warn("repository not read", "entity", e.Key, "file", e.ManagedBy, "err", err)
			return looked{}, false
		}
		if !ok {
			return looked{}, false
		}
		h := sha256.New()
		for _, f := range files {
			h.Write([]byte(f))
			h.Write([]byte{0})
		}
		return looked{ent: e, digest: "files:" + hex.EncodeToString(h.Sum(nil)), files: files}, true
	}
	return looked{}, false
}

// storedRepo returns the stored facts.repo of an entity, nil when none.
func storedRepo(sets []badges.FactSet) json.RawMessage {
	for _, f := range sets {
		if f.Source == badging.SourceRepo {
			return f.Facts
		}
	}
	return nil
}
