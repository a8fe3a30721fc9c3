package sqlitecatalog

import (
	"context"
	"database/sql"
	"errors"
	"iter"
	"strings"

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
	// pre holds the entities of the keys last prefetched that exist; asked
	// the keys that were prefetched and not looked up yet.
	pre   map[string]refresh.Known
	asked map[string]bool
}

// prefetchChunk bounds the keys of one prefetching query.
const prefetchChunk = 500

// Prefetch reads the entities of keys in one query per prefetchChunk keys;
// Lookup answers each of them from it once. A failed read leaves Lookup to
// read them one by one.
func (sn *snapshot) Prefetch(keys []string) {
	sn.pre, sn.asked = nil, nil
	pre := make(map[string]refresh.Known, len(keys))
	asked := make(map[string]bool, len(keys))
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), prefetchChunk)]
		keys = keys[len(chunk):]
		args := make([]any, len(chunk))
		for i, k := range chunk {
			args[i] = k
		}
		rows, err := sn.s.decide.QueryContext(sn.ctx, `SELECT key, uid, hash, location_id, managed_by FROM entities WHERE key IN (?`+strings.Repeat(",?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return
		}
		for rows.Next() {
			var k refresh.Known
			if err := rows.Scan(&k.Key, &k.UID, &k.Hash, &k.LocationID, &k.ManagedBy); err != nil {
				rows.Close()
				return
			}
			pre[k.Key] = k
		}
		err = rows.Err()
		if cerr := rows.Close(); err != nil || cerr != nil {
			return
		}
		for _, k := range chunk {
			asked[k] = true
		}
	}
	sn.pre, sn.asked = pre, asked
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
	if sn.asked[key] {
		delete(sn.asked, key)
		k, ok := sn.pre[key]
		delete(sn.pre, key)
		return k, ok
	}
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

// locationFilesSQL lists a location's files (managed_by) by seeking
// entities_location once per file, where SELECT DISTINCT reads every entry of
// the location: an edit's refresh of a location of 100,000 entities in 1,000
// files lists them twice (the decision's removals, the repo watcher).
const locationFilesSQL = `WITH RECURSIVE files(f) AS (
	SELECT (SELECT managed_by FROM entities WHERE location_id = ?1 ORDER BY managed_by LIMIT 1)
	UNION ALL
	SELECT (SELECT managed_by FROM entities WHERE location_id = ?1 AND managed_by > f ORDER BY managed_by LIMIT 1)
	FROM files WHERE f IS NOT NULL
) SELECT f FROM files WHERE f IS NOT NULL`

// Owned yields the location's entities of the files not in except, file by
// file, reading each file's entities as it yields them: a location of a
// million entities is never held whole.
func (sn *snapshot) Owned(locationID string, except map[string]bool) iter.Seq[refresh.Known] {
	return func(yield func(refresh.Known) bool) {
		// First the location's files, from the index alone; then the
		// entities of the files not kept.
		files, err := sn.locationFiles(locationID, except)
		if err != nil {
			sn.err = err
			return
		}
		for _, f := range files {
			if !sn.ownedOf(locationID, f, yield) {
				return
			}
		}
	}
}

// locationFiles lists the location's files not in except.
func (sn *snapshot) locationFiles(locationID string, except map[string]bool) ([]string, error) {
	rows, err := sn.s.decide.QueryContext(sn.ctx, locationFilesSQL, locationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var files []string
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return nil, err
		}
		if !except[f] {
			files = append(files, f)
		}
	}
	return files, rows.Err()
}

// ownedOf yields the location's entities of the file f; it reports whether
// to go on: false once yield said stop or a read failed (kept for Err).
func (sn *snapshot) ownedOf(locationID, f string, yield func(refresh.Known) bool) bool {
	rows, err := sn.s.decide.QueryContext(sn.ctx, `SELECT key, uid, hash, location_id, managed_by FROM entities WHERE location_id = ? AND managed_by = ?`, locationID, f)
	if err != nil {
		sn.err = err
		return false
	}
	defer rows.Close()
	for rows.Next() {
		var k refresh.Known
		if err := rows.Scan(&k.Key, &k.UID, &k.Hash, &k.LocationID, &k.ManagedBy); err != nil {
			sn.err = err
			return false
		}
		if !yield(k) {
			return false
		}
	}
	if err := rows.Err(); err != nil {
		sn.err = err
		return false
	}
	return true
}

// Errors returns the location's recorded processing errors.
func (sn *snapshot) Errors(locationID string) []event.ProcessingError {
	if locationID == sn.locID {
		return sn.errs
	}
	return nil
}
