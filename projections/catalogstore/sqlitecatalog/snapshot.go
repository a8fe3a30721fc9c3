package sqlitecatalog

import (
	"context"
	"database/sql"
	"errors"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/refresh"
)

// snapshot is the refresh.State of one location. It reads lazily: a refresh of a
// large location whose files are mostly unchanged looks up only the entities of
// the changed files, and lists only the owned entities of files it did not keep.
type snapshot struct {
	ctx   context.Context
	s     *Store
	errs  []event.ProcessingError
	locID string
	err   error // the first failed read, see Err
}

// Err returns the first read that failed; a decision made on a failed read must
// not be written.
func (sn *snapshot) Err() error { return sn.err }

// Snapshot reads what the refresh decision needs about a location.
func (s *Store) Snapshot(ctx context.Context, locationID string) (refresh.State, error) {
	errs, err := locationErrors(ctx, s.decide, locationID)
	if err != nil {
		return nil, err
	}
	return &snapshot{ctx: ctx, s: s, errs: errs, locID: locationID}, nil
}

// Lookup reads one entity by key.
func (sn *snapshot) Lookup(key string) (refresh.Known, bool) {
	var k refresh.Known
	err := sn.s.decide.QueryRowContext(sn.ctx, `SELECT key, uid, hash, location_id, managed_by FROM entities WHERE key = ?`, key).
		Scan(&k.Key, &k.UID, &k.Hash, &k.LocationID, &k.ManagedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return refresh.Known{}, false
	}
	if err != nil {
		sn.err = err
		// Treat a failed lookup as a conflict so nothing is overwritten blindly.
		return refresh.Known{Key: key, LocationID: "unknown", ManagedBy: "unreadable: " + err.Error()}, true
	}
	return k, true
}

// Owned lists the location's entities of the files not in except.
func (sn *snapshot) Owned(locationID string, except map[string]bool) []refresh.Known {
	// First the location's files, from the index alone; then the entities of the
	// files not kept.
	rows, err := sn.s.decide.QueryContext(sn.ctx, `SELECT DISTINCT managed_by FROM entities WHERE location_id = ?`, locationID)
	if err != nil {
		sn.err = err
		return nil
	}
	var files []string
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			rows.Close()
			sn.err = err
			return nil
		}
		if !except[f] {
			files = append(files, f)
		}
	}
	rows.Close()
	var out []refresh.Known
	for _, f := range files {
		rows, err := sn.s.decide.QueryContext(sn.ctx, `SELECT key, uid, hash, location_id, managed_by FROM entities WHERE location_id = ? AND managed_by = ?`, locationID, f)
		if err != nil {
			sn.err = err
			return nil
		}
		for rows.Next() {
			var k refresh.Known
			if err := rows.Scan(&k.Key, &k.UID, &k.Hash, &k.LocationID, &k.ManagedBy); err != nil {
				rows.Close()
				sn.err = err
				return nil
			}
			out = append(out, k)
		}
		rows.Close()
	}
	return out
}

// Errors returns the location's recorded processing errors.
func (sn *snapshot) Errors(locationID string) []event.ProcessingError {
	if locationID == sn.locID {
		return sn.errs
	}
	return nil
}
