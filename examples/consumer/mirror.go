package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// The event types the mirror reads. Types are versioned names: a new major
// version gets a new name, so a consumer that does not know a type skips it.
const (
	typeEntityUpserted     = "backlot.entity.upserted.v1"
	typeEntityRemoved      = "backlot.entity.removed.v1"
	typeLocationRegistered = "backlot.location.registered.v1"
	typeLocationRemoved    = "backlot.location.removed.v1"
)

// envelope is the part of Backlot's CloudEvents envelope the mirror reads.
type envelope struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Subject string          `json:"subject"`
	Data    json.RawMessage `json:"data"`
}

// entityUpserted is the data of backlot.entity.upserted.v1.
type entityUpserted struct {
	Ref    string          `json:"ref"`
	UID    string          `json:"uid"`
	Hash   string          `json:"hash"`
	Entity json.RawMessage `json:"entity"`
}

// entityRemoved is the data of backlot.entity.removed.v1.
type entityRemoved struct {
	Ref string `json:"ref"`
	UID string `json:"uid"`
}

// locationRegistered is the data of backlot.location.registered.v1.
type locationRegistered struct {
	ID        string `json:"id"`
	EntityRef string `json:"entityRef"`
}

// locationRemoved is the data of backlot.location.removed.v1.
type locationRemoved struct {
	ID string `json:"id"`
}

// mirroredEntity is one entity as the mirror keeps it.
type mirroredEntity struct {
	UID    string          `json:"uid"`
	Hash   string          `json:"hash"`
	Entity json.RawMessage `json:"entity"`
}

// mirrorState is what the state file holds: the mirrored catalog and the
// cursor of the last event applied to it.
type mirrorState struct {
	Cursor    string                    `json:"cursor"`
	Entities  map[string]mirroredEntity `json:"entities"`
	Locations map[string]string         `json:"locations"`
}

// Change describes what one event changed in the mirror. The zero Change
// means the event changed nothing.
type Change struct {
	// Op is "upsert", "remove", "location-registered" or "location-removed".
	Op string
	// Ref is the entity ref the change concerns.
	Ref string
}

// String formats the change as the line the consumer prints.
func (c Change) String() string {
	return c.Op + " " + c.Ref
}

// Mirror is a local copy of the catalog, folded from Backlot's change events:
// entity bodies by ref, the generated Location entity of each registered
// location, and the cursor of the last event applied.
//
// Apply and Advance are meant to be called from one goroutine, in stream
// order; the readers (Entities, LocationRefs, Cursor, Save) may run
// concurrently with them.
type Mirror struct {
	mu      sync.Mutex
	st      mirrorState
	version uint64 // counts Apply and Advance calls that changed the state
}

// NewMirror returns an empty mirror that starts at the beginning of the stream.
func NewMirror() *Mirror {
	return &Mirror{st: mirrorState{Entities: map[string]mirroredEntity{}, Locations: map[string]string{}}}
}

// LoadMirror reads a state file written by Save. A missing file gives an
// empty mirror; a damaged one is an error, so a consumer never silently
// starts over.
func LoadMirror(path string) (*Mirror, error) {
	m := NewMirror()
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &m.st); err != nil {
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	if m.st.Entities == nil {
		m.st.Entities = map[string]mirroredEntity{}
	}
	if m.st.Locations == nil {
		m.st.Locations = map[string]string{}
	}
	return m, nil
}

// Apply folds one event (the CloudEvent JSON of an SSE data field) into the
// mirror and says what it changed. Applying the same event twice changes
// nothing the second time. Event types the mirror does not use, including
// backlot.processing.error.*, are skipped. A malformed event is an error and
// leaves the mirror as it was.
func (m *Mirror) Apply(eventJSON []byte) (Change, error) {
	var ev envelope
	if err := json.Unmarshal(eventJSON, &ev); err != nil {
		return Change{}, fmt.Errorf("event: %w", err)
	}
	decode := func(v any) error {
		if err := json.Unmarshal(ev.Data, v); err != nil {
			return fmt.Errorf("event %s (%s): data: %w", ev.ID, ev.Type, err)
		}
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch ev.Type {
	case typeEntityUpserted:
		var d entityUpserted
		if err := decode(&d); err != nil {
			return Change{}, err
		}
		if d.Ref == "" || len(d.Entity) == 0 {
			return Change{}, fmt.Errorf("event %s (%s): ref and entity are required", ev.ID, ev.Type)
		}
		if cur, ok := m.st.Entities[d.Ref]; ok && cur.UID == d.UID && cur.Hash == d.Hash {
			return Change{}, nil
		}
		m.st.Entities[d.Ref] = mirroredEntity{UID: d.UID, Hash: d.Hash, Entity: d.Entity}
		m.version++
		return Change{Op: "upsert", Ref: d.Ref}, nil
	case typeEntityRemoved:
		var d entityRemoved
		if err := decode(&d); err != nil {
			return Change{}, err
		}
		cur, ok := m.st.Entities[d.Ref]
		if !ok || (d.UID != "" && cur.UID != d.UID) {
			// Gone already, or re-created since under a new uid.
			return Change{}, nil
		}
		delete(m.st.Entities, d.Ref)
		m.version++
		return Change{Op: "remove", Ref: d.Ref}, nil
	case typeLocationRegistered:
		var d locationRegistered
		if err := decode(&d); err != nil {
			return Change{}, err
		}
		if d.ID == "" || m.st.Locations[d.ID] == d.EntityRef {
			return Change{}, nil
		}
		m.st.Locations[d.ID] = d.EntityRef
		m.version++
		return Change{Op: "location-registered", Ref: d.EntityRef}, nil
	case typeLocationRemoved:
		var d locationRemoved
		if err := decode(&d); err != nil {
			return Change{}, err
		}
		ref, ok := m.st.Locations[d.ID]
		if !ok {
			return Change{}, nil
		}
		delete(m.st.Locations, d.ID)
		m.version++
		return Change{Op: "location-removed", Ref: ref}, nil
	}
	return Change{}, nil
}

// Advance records the cursor of the last event applied: the SSE id a
// reconnection sends back as Last-Event-ID.
func (m *Mirror) Advance(cursor string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cursor != m.st.Cursor {
		m.st.Cursor = cursor
		m.version++
	}
}

// Cursor returns the cursor of the last event applied, empty before the first.
func (m *Mirror) Cursor() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.st.Cursor
}

// Entities returns a copy of the mirrored entity bodies by ref, as the
// upsert events carried them (without uid, etag, relations or status).
// Generated Location entities are not among them; see LocationRefs.
func (m *Mirror) Entities() map[string]json.RawMessage {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]json.RawMessage, len(m.st.Entities))
	for ref, e := range m.st.Entities {
		out[ref] = e.Entity
	}
	return out
}

// LocationRefs returns the refs of the Location entities Backlot generates
// for registered locations (location:default/generated-…), by location id.
// The events carry only their refs, so the mirror keeps no body for them.
func (m *Mirror) LocationRefs() map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.st.Locations)
}

// Save writes the mirror and its cursor to path atomically: to a temporary
// file in the same folder, synced, then renamed over path, so a crash leaves
// either the old state or the new one. It returns the version it saved.
func (m *Mirror) Save(path string) (uint64, error) {
	m.mu.Lock()
	raw, err := json.Marshal(m.st)
	version := m.version
	m.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return version, writeAtomic(path, raw)
}

// Version counts the changes to the mirror's state, so a saver can tell
// whether there is anything new to save.
func (m *Mirror) Version() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.version
}

func writeAtomic(path string, raw []byte) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, strings.TrimPrefix(base, ".")+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(raw)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("save state %s: %w", path, err)
	}
	return nil
}
