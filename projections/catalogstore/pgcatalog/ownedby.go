package pgcatalog

import (
	"fmt"
	"iter"

	"backlot.dev/backlot/domain/refresh"
)

var _ refresh.FileState = (*snapshot)(nil)

// OwnedBy yields the location's entities read from files, file by file in
// the order given (each file's in creation order), one query per file
// streamed as it is yielded: a refresh that re-read one file of a large
// location reads back that file's entities alone, by the entities_location
// index, instead of listing the location's files.
func (sn *snapshot) OwnedBy(locationID string, files []string) iter.Seq[refresh.Known] {
	return func(yield func(refresh.Known) bool) {
		for _, f := range files {
			if !sn.ownedOf(locationID, f, yield) {
				return
			}
		}
	}
}

// ownedOf yields the location's entities of the file f; it reports whether
// to go on: false once yield said stop or a read failed (kept for Err).
func (sn *snapshot) ownedOf(locationID, f string, yield func(refresh.Known) bool) bool {
	fail := func(err error) {
		sn.err = fmt.Errorf("catalog store (postgres): entities of %s in location %s: %w", f, locationID, err)
	}
	rows, err := sn.s.pool.Query(sn.ctx, `SELECT key, uid, hash, location_id, managed_by FROM entities
		WHERE location_id = $1 AND managed_by = $2 ORDER BY eid`, locationID, f)
	if err != nil {
		fail(err)
		return false
	}
	defer rows.Close()
	for rows.Next() {
		var k refresh.Known
		if err := rows.Scan(&k.Key, &k.UID, &k.Hash, &k.LocationID, &k.ManagedBy); err != nil {
			fail(err)
			return false
		}
		if !yield(k) {
			return false
		}
	}
	if err := rows.Err(); err != nil {
		fail(err)
		return false
	}
	return true
}
