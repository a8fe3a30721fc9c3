package catalogstore

import (
	"context"
	"database/sql"
	"errors"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/refresh"
)

// snapshot is the refresh.State of one location, read in one go, with lookups of
// other entities answered from the store.
type snapshot struct {
	ctx   context.Context
	s     *SQLite
	owned []refresh.Known
	byKey map[string]refresh.Known
	errs  []event.ProcessingError
	locID string
}

// Snapshot reads what the refresh decision needs about a location.
func (s *SQLite) Snapshot(ctx context.Context, locationID string) (refresh.State, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT key, uid, hash, location_id, managed_by FROM entities WHERE location_id = ?`, locationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	snap := &snapshot{ctx: ctx, s: s, byKey: map[string]refresh.Known{}, locID: locationID}
	for rows.Next() {
		var k refresh.Known
		if err := rows.Scan(&k.Key, &k.UID, &k.Hash, &k.LocationID, &k.ManagedBy); err != nil {
			return nil, err
		}
		snap.owned = append(snap.owned, k)
		snap.byKey[k.Key] = k
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	snap.errs, err = s.LocationErrors(ctx, locationID)
	if err != nil {
		return nil, err
	}
	return snap, nil
}

func (sn *snapshot) Lookup(key string) (refresh.Known, bool) {
	if k, ok := sn.byKey[key]; ok {
		return k, true
	}
	var k refresh.Known
	err := sn.s.read.QueryRowContext(sn.ctx, `SELECT key, uid, hash, location_id, managed_by FROM entities WHERE key = ?`, key).
		Scan(&k.Key, &k.UID, &k.Hash, &k.LocationID, &k.ManagedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return refresh.Known{}, false
	}
	if err != nil {
		// Treat a failed lookup as a conflict so nothing is overwritten blindly.
		return refresh.Known{Key: key, LocationID: "unknown", ManagedBy: "unreadable: " + err.Error()}, true
	}
	return k, true
}

func (sn *snapshot) Owned(locationID string) []refresh.Known {
	if locationID == sn.locID {
		return sn.owned
	}
	return nil
}

func (sn *snapshot) Errors(locationID string) []event.ProcessingError {
	if locationID == sn.locID {
		return sn.errs
	}
	return nil
}
