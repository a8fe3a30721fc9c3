package pgcatalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"

	"github.com/jackc/pgx/v5"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/refresh"
	"backlot.dev/backlot/projections/catalogstore"
)

// decorate loads relations and status items for the views.
func (s *Store) decorate(ctx context.Context, views []*catalogstore.EntityView) error {
	if len(views) == 0 {
		return nil
	}
	byKey, keys := catalogstore.IndexViews(views)
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		b := &pgx.Batch{}
		// Each relation is stored once, by the entity that declares it: an
		// entity's relations are those it declares and the reverses of those
		// declared toward it.
		b.Queue(`SELECT DISTINCT source, type, target, target_ref FROM (
				SELECT e.key AS source, r.type AS type, r.target AS target, r.target_ref AS target_ref
					FROM entities e JOIN relations r ON r.origin = e.eid WHERE e.key = ANY($1)
				UNION ALL
				SELECT r.target, r.reverse, o.key, o.ref FROM relations r JOIN entities o ON o.eid = r.origin
					WHERE r.target = ANY($1)
			) x ORDER BY source, type, target, target_ref`, keys).Query(func(rows pgx.Rows) error {
			return catalogstore.ScanRelations(rows, byKey, true)
		})
		queueStatus(b, keys, byKey)
		return conn.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("catalog store (postgres): relations and status: %w", err)
	}
	for _, v := range byKey {
		catalogstore.NormalizeRelations(v)
	}
	return nil
}

// queueStatus queues the read of the status items of the views byKey (keys
// lists their keys): the processing errors of each entity's file, and those
// of the location it registered, if any.
func queueStatus(b *pgx.Batch, keys []string, byKey map[string]*catalogstore.EntityView) {
	b.Queue(`SELECT entity_key, body, 0 AS part, location_id, seq FROM location_errors WHERE entity_key = ANY($1)
		UNION ALL
		SELECT l.entity_key, le.body, 1, le.location_id, le.seq FROM location_errors le JOIN locations l ON l.id = le.location_id
		WHERE l.entity_key = ANY($1) AND le.entity_key <> l.entity_key
		ORDER BY 1, 3, 4, 5`, keys).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var key, loc string
			var raw []byte
			var part, seq int32
			if err := rows.Scan(&key, &raw, &part, &loc, &seq); err != nil {
				return err
			}
			var pe event.ProcessingError
			if err := json.Unmarshal(raw, &pe); err != nil {
				return fmt.Errorf("location %s error %d: %w", loc, seq, err)
			}
			if v := byKey[key]; v != nil {
				v.Status = append(v.Status, catalogstore.StatusItemOf(pe))
			}
		}
		return rows.Err()
	})
}

// ByKeys returns the entities with the given keys, in order, nil where missing.
func (s *Store) ByKeys(ctx context.Context, keys []string) ([]*catalogstore.EntityView, error) {
	out := make([]*catalogstore.EntityView, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	lower := lowerAll(keys)
	found := map[string]*catalogstore.EntityView{}
	rows, err := s.pool.Query(ctx, `SELECT key, ref, uid, location_id, body FROM entities WHERE key = ANY($1)`, lower)
	if err != nil {
		return nil, fmt.Errorf("catalog store (postgres): by keys: %w", err)
	}
	for rows.Next() {
		v := &catalogstore.EntityView{}
		if err := rows.Scan(&v.Key, &v.Ref, &v.UID, &v.LocationID, &v.Body); err != nil {
			rows.Close()
			return nil, fmt.Errorf("catalog store (postgres): by keys: %w", err)
		}
		found[v.Key] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog store (postgres): by keys: %w", err)
	}
	views := make([]*catalogstore.EntityView, 0, len(found))
	for _, v := range found {
		views = append(views, v)
	}
	if err := s.decorate(ctx, views); err != nil {
		return nil, err
	}
	for i, k := range lower {
		out[i] = found[k]
	}
	return out, nil
}

// ByUID returns the entity with the uid, or catalogstore.ErrNotFound.
func (s *Store) ByUID(ctx context.Context, uid string) (*catalogstore.EntityView, error) {
	var key string
	if err := s.pool.QueryRow(ctx, `SELECT key FROM entities WHERE uid = $1`, uid).Scan(&key); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, catalogstore.ErrNotFound
		}
		return nil, fmt.Errorf("catalog store (postgres): by uid: %w", err)
	}
	vs, err := s.ByKeys(ctx, []string{key})
	if err != nil {
		return nil, err
	}
	if vs[0] == nil {
		return nil, catalogstore.ErrNotFound
	}
	return vs[0], nil
}

// Locations lists registered locations in registration order.
func (s *Store) Locations(ctx context.Context) ([]catalogstore.Location, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, type, target, entity_key FROM locations ORDER BY created`)
	if err != nil {
		return nil, fmt.Errorf("catalog store (postgres): locations: %w", err)
	}
	defer rows.Close()
	out := []catalogstore.Location{}
	for rows.Next() {
		var l catalogstore.Location
		if err := rows.Scan(&l.ID, &l.Type, &l.Target, &l.EntityRef); err != nil {
			return nil, fmt.Errorf("catalog store (postgres): locations: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog store (postgres): locations: %w", err)
	}
	return out, nil
}

// Location returns the location with the id, or catalogstore.ErrNotFound.
func (s *Store) Location(ctx context.Context, id string) (catalogstore.Location, error) {
	return s.oneLocation(ctx, `SELECT id, type, target, entity_key FROM locations WHERE id = $1`, id)
}

// LocationByTarget returns the location registered for type and target, or
// catalogstore.ErrNotFound.
func (s *Store) LocationByTarget(ctx context.Context, locType, target string) (catalogstore.Location, error) {
	return s.oneLocation(ctx, `SELECT id, type, target, entity_key FROM locations WHERE type = $1 AND target = $2`, locType, target)
}

func (s *Store) oneLocation(ctx context.Context, q string, args ...any) (catalogstore.Location, error) {
	var l catalogstore.Location
	err := s.pool.QueryRow(ctx, q, args...).Scan(&l.ID, &l.Type, &l.Target, &l.EntityRef)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return catalogstore.Location{}, catalogstore.ErrNotFound
		}
		return catalogstore.Location{}, fmt.Errorf("catalog store (postgres): location: %w", err)
	}
	return l, nil
}

// LocationErrors returns the processing errors recorded for the location, in
// the order they were recorded; nil when there are none.
func (s *Store) LocationErrors(ctx context.Context, id string) ([]event.ProcessingError, error) {
	rows, err := s.pool.Query(ctx, `SELECT body FROM location_errors WHERE location_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("catalog store (postgres): location errors: %w", err)
	}
	defer rows.Close()
	var out []event.ProcessingError
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("catalog store (postgres): location errors: %w", err)
		}
		var pe event.ProcessingError
		if err := json.Unmarshal(raw, &pe); err != nil {
			return nil, fmt.Errorf("catalog store (postgres): location %s: stored error: %w", id, err)
		}
		out = append(out, pe)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog store (postgres): location errors: %w", err)
	}
	return out, nil
}

// snapshot is the refresh.State of one location. It reads lazily, as the
// SQLite store's does.
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

// Prefetch reads the entities of keys in one query (the walk asks for a
// file's entities before it decides them); Lookup answers each of them from
// it once. A failed read leaves Lookup to read them one by one. Ingesting
// 100,000 entities in 1,001 files, the lookups one by one were 100,000 round
// trips, each planned on its own.
func (sn *snapshot) Prefetch(keys []string) {
	sn.pre, sn.asked = nil, nil
	rows, err := sn.s.pool.Query(sn.ctx, `SELECT key, uid, hash, location_id, managed_by FROM entities WHERE key = ANY($1)`, keys)
	if err != nil {
		return
	}
	defer rows.Close()
	pre := make(map[string]refresh.Known, len(keys))
	for rows.Next() {
		var k refresh.Known
		if err := rows.Scan(&k.Key, &k.UID, &k.Hash, &k.LocationID, &k.ManagedBy); err != nil {
			return
		}
		pre[k.Key] = k
	}
	if rows.Err() != nil {
		return
	}
	asked := make(map[string]bool, len(keys))
	for _, k := range keys {
		asked[k] = true
	}
	sn.pre, sn.asked = pre, asked
}

// Snapshot reads what the refresh decision needs about a location.
func (s *Store) Snapshot(ctx context.Context, locationID string) (refresh.State, error) {
	errs, err := s.LocationErrors(ctx, locationID)
	if err != nil {
		return nil, err
	}
	return &snapshot{ctx: ctx, s: s, errs: errs, locID: locationID}, nil
}

// Err returns the first read that failed; a decision made on a failed read must
// not be written.
func (sn *snapshot) Err() error { return sn.err }

// Lookup reads one entity by key. A failed read is reported as a conflict, so
// nothing is overwritten blindly, and kept for Err.
func (sn *snapshot) Lookup(key string) (refresh.Known, bool) {
	if sn.asked[key] {
		delete(sn.asked, key)
		k, ok := sn.pre[key]
		delete(sn.pre, key)
		return k, ok
	}
	var k refresh.Known
	err := sn.s.pool.QueryRow(sn.ctx, `SELECT key, uid, hash, location_id, managed_by FROM entities WHERE key = $1`, key).
		Scan(&k.Key, &k.UID, &k.Hash, &k.LocationID, &k.ManagedBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return refresh.Known{}, false
	}
	if err != nil {
		sn.err = fmt.Errorf("catalog store (postgres): look up %s: %w", key, err)
		return refresh.Known{Key: key, LocationID: "unknown", ManagedBy: "unreadable: " + err.Error()}, true
	}
	return k, true
}

// Owned yields the location's entities of the files not in except, by file
// and creation order, as one query streams them: a location of a million
// entities is never held whole.
func (sn *snapshot) Owned(locationID string, except map[string]bool) iter.Seq[refresh.Known] {
	return func(yield func(refresh.Known) bool) {
		skip := make([]string, 0, len(except))
		for f, ok := range except {
			if ok {
				skip = append(skip, f)
			}
		}
		fail := func(err error) {
			sn.err = fmt.Errorf("catalog store (postgres): entities of location %s: %w", locationID, err)
		}
		var rows pgx.Rows
		var err error
		if len(skip) == 0 {
			rows, err = sn.s.pool.Query(sn.ctx, `SELECT key, uid, hash, location_id, managed_by FROM entities
				WHERE location_id = $1 ORDER BY managed_by, eid`, locationID)
		} else {
			// A refresh keeps most files: "not one of these" would test every
			// entity of the location (a scan of 100,000 rows to find the
			// edited file's few). The location's files are listed instead,
			// one index probe each, and only the others are read.
			var files []string
			files, err = sn.s.locationFiles(sn.ctx, locationID)
			if err != nil {
				fail(err)
				return
			}
			files = slices.DeleteFunc(files, func(f string) bool { return except[f] })
			if len(files) == 0 {
				return
			}
			rows, err = sn.s.pool.Query(sn.ctx, `SELECT key, uid, hash, location_id, managed_by FROM entities
				WHERE location_id = $1 AND managed_by = ANY($2) ORDER BY managed_by, eid`, locationID, files)
		}
		if err != nil {
			fail(err)
			return
		}
		defer rows.Close()
		for rows.Next() {
			var k refresh.Known
			if err := rows.Scan(&k.Key, &k.UID, &k.Hash, &k.LocationID, &k.ManagedBy); err != nil {
				fail(err)
				return
			}
			if !yield(k) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			fail(err)
		}
	}
}

// locationFiles lists the files (managed_by) of a location's entities in
// order, by a walk of the entities_location index that reads one entry per
// file rather than every entity.
func (s *Store) locationFiles(ctx context.Context, locationID string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `WITH RECURSIVE f(m) AS (
			(SELECT managed_by FROM entities WHERE location_id = $1 ORDER BY managed_by LIMIT 1)
			UNION ALL
			SELECT (SELECT e.managed_by FROM entities e WHERE e.location_id = $1 AND e.managed_by > f.m ORDER BY e.managed_by LIMIT 1)
			FROM f WHERE f.m IS NOT NULL
		) SELECT m FROM f WHERE m IS NOT NULL`, locationID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Errors returns the location's recorded processing errors.
func (sn *snapshot) Errors(locationID string) []event.ProcessingError {
	if locationID == sn.locID {
		return sn.errs
	}
	return nil
}
