package rebuild

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/sqlitelog"
	"backlot.dev/backlot/projections/badges/sqlitebadges"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
	"backlot.dev/backlot/projections/history/sqlitehist"
)

// Stats reports a rebuild.
type Stats struct {
	// Events is how many events were replayed.
	Events int64
	// Took is how long the replay took.
	Took time.Duration
}

// Rate returns events replayed per second.
func (s Stats) Rate() float64 {
	if s.Took <= 0 {
		return 0
	}
	return float64(s.Events) / s.Took.Seconds()
}

// Catalog replays the event log in dataDir (backlot dev's data folder) from
// the start into fresh read models and then replaces catalog.db, history.db
// and badges.db with them. A read model is replaced only once its replay is
// complete; a failed replay leaves the old one in place. The server
// must not be running. The stats are the catalog's replay.
// progress, if not nil, receives a line per batch of events.
func Catalog(ctx context.Context, dataDir string, progress io.Writer) (Stats, error) {
	logPath := filepath.Join(dataDir, "events.db")
	if _, err := os.Stat(logPath); err != nil {
		return Stats{}, fmt.Errorf("no event log in %s: %w", dataDir, err)
	}
	log, err := sqlitelog.Open(logPath, sqlitelog.Options{})
	if err != nil {
		return Stats{}, err
	}
	defer log.Close()
	head, err := log.Head(ctx)
	if err != nil {
		return Stats{}, err
	}
	tmp := filepath.Join(dataDir, "catalog.rebuild.db")
	removeDB(tmp)
	store, err := sqlitecatalog.Open(tmp, sqlitecatalog.Options{})
	if err != nil {
		return Stats{}, err
	}
	start := time.Now()
	// A replay is one long backlog: fold it without the indexes that take random
	// inserts, and build them once at the end.
	if err := store.BeginReplay(ctx); err != nil {
		store.Close()
		return Stats{}, err
	}
	applied, err := replay(ctx, log, head, store.Apply, progress, "catalog")
	if err != nil {
		store.Close()
		return Stats{}, err
	}
	if err := store.EndBulk(ctx); err != nil {
		store.Close()
		return Stats{}, err
	}
	stats := Stats{Events: applied, Took: time.Since(start)}
	if err := store.Close(); err != nil {
		return stats, err
	}
	dst := filepath.Join(dataDir, "catalog.db")
	removeDB(dst)
	if err := os.Rename(tmp, dst); err != nil {
		return stats, err
	}

	// The history read model, the same way. The catalog rows the old one
	// kept (it had answered reads at an instant) are built again, in bulk
	// once the versions are in.
	hdst := filepath.Join(dataDir, "history.db")
	keepRows, err := sqlitehist.KeepsCatalogRows(hdst)
	if err != nil {
		return stats, err
	}
	htmp := filepath.Join(dataDir, "history.rebuild.db")
	removeDB(htmp)
	hist, err := sqlitehist.Open(htmp, sqlitehist.Options{})
	if err != nil {
		return stats, err
	}
	if _, err := replay(ctx, log, head, hist.Apply, progress, "history"); err != nil {
		hist.Close()
		return stats, err
	}
	if keepRows {
		if err := hist.KeepCatalogRows(ctx); err != nil {
			hist.Close()
			return stats, err
		}
		if progress != nil {
			fmt.Fprintln(progress, "history: catalog rows of every version built")
		}
	}
	if err := hist.Close(); err != nil {
		return stats, err
	}
	removeDB(hdst)
	if err := os.Rename(htmp, hdst); err != nil {
		return stats, err
	}

	// The badge read model: the facts and verdicts the log records. The
	// evaluator's own position is kept, so nothing is rated again.
	evaluated := event.Positions{}
	if old, err := sqlitebadges.Open(filepath.Join(dataDir, "badges.db")); err == nil {
		evaluated, _ = old.EvaluatorPositions(ctx)
		old.Close()
	}
	btmp := filepath.Join(dataDir, "badges.rebuild.db")
	removeDB(btmp)
	bs, err := sqlitebadges.Open(btmp)
	if err != nil {
		return stats, err
	}
	if _, err := replay(ctx, log, head, bs.Apply, progress, "badges"); err != nil {
		bs.Close()
		return stats, err
	}
	if err := bs.SetEvaluatorPositions(ctx, evaluated); err != nil {
		bs.Close()
		return stats, err
	}
	if err := bs.Close(); err != nil {
		return stats, err
	}
	bdst := filepath.Join(dataDir, "badges.db")
	removeDB(bdst)
	if err := os.Rename(btmp, bdst); err != nil {
		return stats, err
	}
	return stats, nil
}

// replay folds the log up to head into apply, a batch at a time, with a
// progress line when progress is set.
func replay(ctx context.Context, log *sqlitelog.Log, head int64, apply func(context.Context, []event.Envelope) error, progress io.Writer, what string) (int64, error) {
	start := time.Now()
	var applied int64
	for applied < head {
		batch, err := log.Read(ctx, applied, 5000)
		if err != nil {
			return applied, err
		}
		if len(batch) == 0 {
			break
		}
		if err := apply(ctx, batch); err != nil {
			return applied, err
		}
		applied = batch[len(batch)-1].Position
		if progress != nil {
			el := time.Since(start).Seconds()
			fmt.Fprintf(progress, "\r%s: replayed %d/%d events (%.0f%%, %.0f events/s)", what, applied, head, 100*float64(applied)/float64(max(head, 1)), float64(applied)/max(el, 1e-9))
		}
	}
	if progress != nil {
		fmt.Fprintln(progress)
	}
	return applied, nil
}

func removeDB(path string) {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
}
